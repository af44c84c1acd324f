//! Where something is in an 837: the loop, the segment and its position in
//! the transaction (ST = 1, as 999 IK302 counts), the element and component.
//!
//! Written `loop/segment` + two-digit element + `-component`, e.g.
//! `2300/CLM02`, `2300/CLM05-3`, `2010AA/NM109`; a service line's loop carries
//! its LX number, `2400[2]/SV101-2`. Envelope positions have no loop: `ISA13`, `SE01`.

use std::fmt;

/// An X12 location, precise enough for a 999 IK3/IK4 and readable in a problem's `path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    /// The loop id (`2300`), `None` for envelope segments and the header.
    pub loop_id: Option<&'static str>,
    /// The 1-based service line (LX) within a 2400 loop, shown as `2400[n]`.
    pub line: Option<u32>,
    pub segment_id: String,
    /// 1-based position of the segment in its transaction (ST = 1); 0 outside a transaction.
    pub segment_position: u32,
    /// 1-based element position (`CLM02` is 2).
    pub element: Option<u8>,
    /// 1-based component position within a composite element.
    pub component: Option<u8>,
}

impl Position {
    pub fn segment(loop_id: Option<&'static str>, segment_id: &str, segment_position: u32) -> Position {
        Position { loop_id, line: None, segment_id: segment_id.to_owned(), segment_position, element: None, component: None }
    }

    pub fn element(mut self, element: u8) -> Position {
        self.element = Some(element);
        self
    }

    pub fn component(mut self, component: u8) -> Position {
        self.component = Some(component);
        self
    }

    pub fn line(mut self, line: Option<u32>) -> Position {
        self.line = line;
        self
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loop_id) = self.loop_id {
            f.write_str(loop_id)?;
            if let Some(line) = self.line {
                write!(f, "[{line}]")?;
            }
            f.write_str("/")?;
        }
        f.write_str(&self.segment_id)?;
        if let Some(element) = self.element {
            write!(f, "{element:02}")?;
            if let Some(component) = self.component {
                write!(f, "-{component}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_written_loop_slash_segment_and_element() {
        assert_eq!(Position::segment(Some("2300"), "CLM", 27).element(2).to_string(), "2300/CLM02");
        assert_eq!(Position::segment(Some("2300"), "CLM", 27).element(5).component(3).to_string(), "2300/CLM05-3");
        assert_eq!(Position::segment(Some("2400"), "SV1", 31).line(Some(2)).element(1).component(2).to_string(), "2400[2]/SV101-2");
        assert_eq!(Position::segment(None, "SE", 40).element(1).to_string(), "SE01");
        assert_eq!(Position::segment(Some("2010AA"), "NM1", 9).to_string(), "2010AA/NM1");
    }
}
