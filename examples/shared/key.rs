//! The shared key of the remote examples: from the file named by `ACTOR_SECRET_FILE`, or
//! else from the value of `ACTOR_SECRET`.

use actor::net::Secret;

/// The key both processes of an example share.
pub(crate) fn secret() -> Result<Secret, Box<dyn std::error::Error>> {
    if let Ok(path) = std::env::var("ACTOR_SECRET_FILE") {
        return Ok(Secret::from_file(path)?);
    }
    Ok(Secret::from_env("ACTOR_SECRET")?)
}
