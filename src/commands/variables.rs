//! `aistack config --variables`: the table Compose prints.

use anyhow::Result;

use crate::compose::{LoadOptions, variables};
use crate::report::diagnostic;

pub fn print(opts: &LoadOptions) -> Result<()> {
    let vars = match variables::variables(opts) {
        Ok(v) => v,
        Err(e) => {
            eprint!("{}", diagnostic::render(&e));
            return Err(anyhow::Error::new(e).context(crate::REPORTED));
        }
    };
    println!(
        "{:<19} {:<19} {:<19} ALTERNATE VALUE",
        "NAME", "REQUIRED", "DEFAULT VALUE"
    );
    for v in vars {
        println!(
            "{:<19} {:<19} {:<19} {}",
            v.name, v.required, v.default, v.alternate
        );
    }
    Ok(())
}
