//! Splitting a fuzz input into the choices and byte strings a target needs.

/// Reads a fuzz input front to back.
///
/// Reads never fail: once the input runs out, numbers read as zero and byte strings as empty,
/// so every input, however short, drives a target to the end.
#[derive(Debug, Clone)]
pub(crate) struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Input<'a> {
        Input { rest: data }
    }

    /// Whether the input has run out.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next byte, or 0.
    pub(crate) fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&byte, rest)) => {
                self.rest = rest;
                byte
            }
            None => 0,
        }
    }

    /// The next two bytes as a big-endian number, missing bytes counting as 0.
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// The next `n` bytes, or all that is left if fewer.
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    /// A byte string prefixed by its length as one byte (so at most 255 bytes).
    pub(crate) fn chunk(&mut self) -> &'a [u8] {
        let len = self.byte();
        self.take(usize::from(len))
    }

    /// A byte string prefixed by its length as two big-endian bytes (so at most 65535 bytes).
    pub(crate) fn long_chunk(&mut self) -> &'a [u8] {
        let len = self.u16();
        self.take(usize::from(len))
    }

    /// Everything that is left.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_the_end_give_zeros_and_empty_slices() {
        let mut input = Input::new(&[1, 2, 3, b'a', b'b']);
        assert_eq!(input.byte(), 1);
        assert_eq!(input.u16(), 0x0203);
        assert_eq!(input.chunk(), b"b");
        assert!(input.is_empty());
        assert_eq!(Input::new(&[0, 2, 7, 8, 9]).long_chunk(), [7, 8]);
        assert_eq!((input.byte(), input.u16(), input.take(3)), (0, 0, &[][..]));
    }
}
