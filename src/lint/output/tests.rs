use std::path::Path;

use super::*;
use crate::compose::node::Span;

#[test]
fn paths_under_the_working_directory_are_shown_relative() {
    let base = Path::new("/work/repo");
    assert_eq!(
        display_path("/work/repo/stacks/compose.yaml", base),
        "stacks/compose.yaml"
    );
    assert_eq!(
        display_path("/elsewhere/compose.yaml", base),
        "/elsewhere/compose.yaml"
    );
}

#[test]
fn a_location_says_as_much_as_is_known() {
    let base = Path::new("/w");
    let span = |l, c| Span::new("/w/c.yaml".into(), l, c);
    assert_eq!(location(&span(3, 5), base).as_deref(), Some("c.yaml:3:5"));
    assert_eq!(location(&span(3, 0), base).as_deref(), Some("c.yaml:3"));
    assert_eq!(location(&span(0, 0), base).as_deref(), Some("c.yaml"));
    assert_eq!(location(&Span::default(), base), None);
}
