use super::*;

fn excluded(dockerignore: &str, path: &str) -> bool {
    let m = Matcher::new(&read_patterns(dockerignore)).unwrap();
    m.matches_or_parent_matches(path)
}

#[test]
fn lines_are_trimmed_cleaned_and_comments_dropped() {
    let text = "\u{feff}# comment\n  *.log  \r\n\n/abs/path\n!  /keep/../kept.log\n./a//b/\n #not a comment\n";
    assert_eq!(
        read_patterns(text),
        ["*.log", "abs/path", "!kept.log", "a/b", "#not a comment"]
    );
}

#[test]
fn go_clean_rules() {
    for (input, want) in [
        ("", "."),
        ("a/./b/", "a/b"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("//a//b", "/a/b"),
        ("a/b/../../..", ".."),
        ("/", "/"),
    ] {
        assert_eq!(clean(input), want, "{input:?}");
    }
}

// The examples of Docker's documentation for .dockerignore.
#[test]
fn documented_examples() {
    let doc = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
    assert!(excluded(doc, "somedir/temporary.txt"));
    assert!(excluded(doc, "somedir/temp"));
    assert!(excluded(doc, "somedir/temp/inner.txt"));
    assert!(excluded(doc, "somedir/subdir/temporary.txt"));
    assert!(excluded(doc, "tempa"));
    assert!(excluded(doc, "tempb"));
    assert!(!excluded(doc, "temporary.txt"));
    assert!(!excluded(doc, "temp"));
    assert!(!excluded(doc, "a/b/c/temporary.txt"));

    assert!(excluded("**/*.go", "main.go"));
    assert!(excluded("**/*.go", "cmd/tool/main.go"));
    assert!(!excluded("**/*.go", "main.rs"));

    let readme = "*.md\n!README.md\n";
    assert!(excluded(readme, "CHANGES.md"));
    assert!(!excluded(readme, "README.md"));

    let secret_excluded = "*.md\n!README*.md\nREADME-secret.md\n";
    assert!(excluded(secret_excluded, "CHANGES.md"));
    assert!(!excluded(secret_excluded, "README-public.md"));
    assert!(excluded(secret_excluded, "README-secret.md"));

    // The last matching rule wins: here the exception comes last.
    let secret_kept = "*.md\nREADME-secret.md\n!README*.md\n";
    assert!(!excluded(secret_kept, "README-secret.md"));
    assert!(excluded(secret_kept, "CHANGES.md"));
}

// Cases from moby/patternmatcher's own test table.
#[test]
fn patternmatcher_table() {
    let cases: &[(&str, &str, bool)] = &[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**", "dir/file", true),
        ("**/**", "dir/file", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/dir2/file", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("a\\\\", "a\\", true),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        (
            "dist/*.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        ("a?b", "a/b", false),
        ("a*b", "a/b", false),
        ("a\\*b", "a*b", true),
        ("a\\*b", "axb", false),
        ("[\\]a]", "]", true),
    ];
    for (pattern, path, want) in cases {
        let m = Matcher::new(&[*pattern]).unwrap();
        assert_eq!(
            m.matches_or_parent_matches(path),
            *want,
            "pattern {pattern:?} on {path:?}"
        );
    }
}

#[test]
fn a_parent_directory_match_excludes_its_contents() {
    assert!(excluded("node_modules", "node_modules/pkg/index.js"));
    assert!(excluded("build/", "build/out/a.o"));
    assert!(!excluded("build", "src/build"));
    // Patterns are relative to the context root, not gitignore-style.
    assert!(!excluded("*.log", "logs/a.log"));
    assert!(excluded("/secrets", "secrets/key"));
}

#[test]
fn an_exception_inside_an_excluded_directory_re_includes_the_file() {
    let text = "docs\n!docs/README.md\n";
    assert!(excluded(text, "docs/guide.md"));
    assert!(!excluded(text, "docs/README.md"));
    let m = Matcher::new(&read_patterns(text)).unwrap();
    assert!(m.exception_under("docs"));
    assert!(!m.exception_under("src"));
    // Docker only looks at literal prefixes when deciding to walk into an
    // excluded directory.
    let m = Matcher::new(&read_patterns("docs\n!*.md\n")).unwrap();
    assert!(!m.exception_under("docs"));
}

#[test]
fn parent_results_give_the_same_answers_as_parent_checks() {
    let m = Matcher::new(&read_patterns("a\n!a/b\na/b/c\n!**/keep\n")).unwrap();
    let (a, info_a) = m.matches_using_parent("a", None);
    let (ab, info_ab) = m.matches_using_parent("a/b", Some(&info_a));
    let (abc, _) = m.matches_using_parent("a/b/c", Some(&info_ab));
    let (abk, _) = m.matches_using_parent("a/b/keep", Some(&info_ab));
    assert_eq!(
        (a, ab, abc, abk),
        (
            m.matches_or_parent_matches("a"),
            m.matches_or_parent_matches("a/b"),
            m.matches_or_parent_matches("a/b/c"),
            m.matches_or_parent_matches("a/b/keep"),
        )
    );
    assert_eq!((a, ab, abc, abk), (true, false, true, false));
}

#[test]
fn malformed_patterns_are_refused_like_go_filepath_match() {
    for bad in ["[", "a[", "[]", "[a-]", "[-a]", "a\\", "[^]"] {
        assert!(
            matches!(Matcher::new(&[bad]), Err(IgnoreError::BadPattern(_))),
            "{bad:?}"
        );
    }
    assert_eq!(Matcher::new(&["!"]), Err(IgnoreError::LoneExclamation));
    for good in ["[a]", "[a-c]x", "[\\-]", "a]b", "\\[x"] {
        assert!(Matcher::new(&[good]).is_ok(), "{good:?}");
    }
}

#[test]
fn many_stars_stay_fast() {
    let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
    let m = Matcher::new(&[pattern]).unwrap();
    assert!(!m.matches_or_parent_matches(&"a".repeat(2000)));
}
