//! Key files: reading one, bounded in size and with a warning when other users can reach it,
//! and writing a new one that only its owner can read.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use zeroize::Zeroize;

use super::SecretError;

/// The largest key file read, in bytes.
pub(super) const MAX_FILE_LEN: usize = 4096;

/// Reads the key in the file at `path`: its bytes, less ONE trailing `"\n"` or `"\r\n"`.
///
/// At most `MAX_FILE_LEN + 1` bytes are read, so that a file named by mistake (a log, a
/// device such as `/dev/zero`) is refused at once instead of filling memory.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, SecretError> {
    let io_error = |source| SecretError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    // Room for every byte that may be read: the buffer never grows, so no copy of the key is
    // left behind in a smaller buffer freed on the way (only this one is zeroed).
    let mut bytes = Vec::with_capacity(MAX_FILE_LEN + 1);
    if let Err(source) = (&file)
        .take(MAX_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
    {
        bytes.zeroize();
        return Err(io_error(source));
    }
    if bytes.len() > MAX_FILE_LEN {
        bytes.zeroize();
        return Err(SecretError::FileTooLarge {
            path: path.to_path_buf(),
            max: MAX_FILE_LEN,
        });
    }
    warn_if_exposed(path, &file);
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(bytes.len() - 1);
    }
    // The removed line ending stays in the spare capacity, which is zeroed on drop as well.
    Ok(bytes)
}

/// Logs a warning if the regular file just read may be read or changed by users other than
/// its owner: they could take the key, or put in their own.
///
/// The mode is that of the open file, not of a second look-up of the path, which could name
/// another file by now. Pipes and devices are not checked: their mode says nothing about who
/// can read a key stored somewhere.
#[cfg(unix)]
fn warn_if_exposed(path: &Path, file: &File) {
    use std::os::unix::fs::PermissionsExt;

    let Ok(metadata) = file.metadata() else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o7777;
    if metadata.is_file() && mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = %format_args!("{mode:04o}"),
            "other users than its owner can access the shared key file; restrict it with \
             chmod 600"
        );
    }
}

/// Other systems' permissions are not checked.
#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path, _file: &File) {}

/// Writes `key` to a new file at `path`, readable and writable by its owner only on Unix
/// (mode 0600), and flushed to the disk.
///
/// An existing file is never replaced, nor followed if it is a symbolic link. If writing
/// fails, the new file is removed, so that no part of a key is taken for a whole one.
pub(super) fn write_new(path: &Path, key: &[u8]) -> Result<(), SecretError> {
    let write_error = |source| SecretError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            SecretError::FileExists {
                path: path.to_path_buf(),
            }
        } else {
            write_error(source)
        }
    })?;
    if let Err(source) = file.write_all(key).and_then(|()| file.sync_all()) {
        drop(file);
        // The file is the one just created (`create_new`), so removing it loses nothing.
        let _ = std::fs::remove_file(path);
        return Err(write_error(source));
    }
    Ok(())
}
