//! `env-file-not-ignored`: a `.env` next to a compose file that git would
//! commit. Whether git ignores it is a fact the command found out (lint runs no
//! processes); a `.env` outside a git work tree is not reported at all.

use crate::compose::node::Span;

use super::{Context, Finding, Severity};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for env in cx.dotenv.iter().filter(|e| !e.ignored) {
        out.push(Finding {
            rule: "env-file-not-ignored",
            severity: Severity::Error,
            service: None,
            network: None,
            span: Span::new(env.path.display().to_string().into(), 0, 0),
            message: ".env is not ignored by git".into(),
            why: "it holds the stack's secrets, and one `git add .` commits them (git check-ignore also says no when it is already tracked)".into(),
            fix: "add .env to .gitignore (and `git rm --cached .env` if it was committed, then rotate its secrets); commit a .env.example instead".into(),
        });
    }
}
