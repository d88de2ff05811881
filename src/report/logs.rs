//! Log lines prefixed with a coloured, aligned service (container) name, as
//! Compose prints them; NO_COLOR and non-terminals get no colour.

use std::io::IsTerminal;

const PALETTE: &[&str] = &["36", "33", "32", "35", "34", "96", "93", "92", "95", "94"];

pub struct Prefixer {
    width: usize,
    colour: bool,
}

impl Prefixer {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let width = names
            .into_iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0);
        let colour = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        Prefixer { width, colour }
    }

    pub fn without_colour(mut self) -> Self {
        self.colour = false;
        self
    }

    /// `name  | text`, the name coloured by its position in `index`.
    pub fn line(&self, name: &str, index: usize, text: &str) -> String {
        let pad = self.width.saturating_sub(name.chars().count());
        if self.colour {
            let c = PALETTE[index % PALETTE.len()];
            format!("\x1b[{c}m{name}{}  |\x1b[0m {text}", " ".repeat(pad))
        } else {
            format!("{name}{}  | {text}", " ".repeat(pad))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_aligned_to_the_longest_name() {
        let p = Prefixer::new(["web", "postgres"]).without_colour();
        assert_eq!(p.line("web", 0, "hi"), "web       | hi");
        assert_eq!(p.line("postgres", 1, "ok"), "postgres  | ok");
    }
}
