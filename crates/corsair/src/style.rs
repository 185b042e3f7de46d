//! Terminal styles. Written through `anstream`, which drops them when stdout is not a terminal
//! (or NO_COLOR is set).

use anstyle::{AnsiColor, Style};

pub const BAD: Style = AnsiColor::Red.on_default().bold();
pub const GOOD: Style = AnsiColor::Green.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default();
pub const DIM: Style = Style::new().dimmed();
pub const HEAD: Style = Style::new().bold();
pub const CORS: Style = AnsiColor::Cyan.on_default();
