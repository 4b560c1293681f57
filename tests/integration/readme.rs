//! README.md against the code: every long flag of every subcommand is in the configuration
//! table, with its subcommand and environment variable, and the table names no flag that does
//! not exist. (The README's grpcurl and CLI examples are run by `.ci/grpcurl_smoke.sh`.)

use clap::CommandFactory;
use std::collections::BTreeMap;

/// One row of the configuration table: its flags, subcommands and env column.
struct Row {
    commands: String,
    env: String,
}

/// Returns the configuration table's rows by flag (a row may name a flag and its short form).
fn configuration_table() -> BTreeMap<String, Row> {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README.md has a `## Configuration` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `--")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert!(
            cells.len() >= 5,
            "configuration row with too few cells: {line}"
        );
        for flag in cells[0]
            .split('`')
            .filter(|w| w.starts_with("--"))
            .map(|w| w.trim_start_matches("--").to_string())
        {
            let row = Row {
                commands: cells[1].to_string(),
                env: cells[2].to_string(),
            };
            assert!(
                rows.insert(flag.clone(), row).is_none(),
                "--{flag} has two rows in README.md's configuration table"
            );
        }
    }
    rows
}

#[test]
fn every_long_flag_of_every_subcommand_is_in_the_readme_configuration_table() {
    let table = configuration_table();
    let cli = faqd::cli::Cli::command();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // Every subcommand with its name as the table writes it (`model install`), and the
    // global flags as `all`.
    let mut commands: Vec<(String, &clap::Command)> = vec![("all".to_string(), &cli)];
    for sub in cli.get_subcommands() {
        if sub.has_subcommands() {
            for nested in sub.get_subcommands() {
                commands.push((format!("{} {}", sub.get_name(), nested.get_name()), nested));
            }
        } else {
            commands.push((sub.get_name().to_string(), sub));
        }
    }
    for (name, sub) in &commands {
        let name = name.as_str();
        for arg in sub.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            seen.insert(long.to_string());
            let Some(row) = table.get(long) else {
                problems.push(format!("--{long} ({name}) has no row"));
                continue;
            };
            if !row.commands.split(", ").any(|c| c == name) {
                problems.push(format!(
                    "--{long}: the row's commands ({}) do not name `{name}`",
                    row.commands
                ));
            }
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                if !row.env.contains(&format!("`{env}`")) {
                    problems.push(format!("--{long} ({name}): env `{env}` is not in its row"));
                }
            }
        }
    }
    for flag in table.keys().filter(|f| !seen.contains(*f)) {
        problems.push(format!("--{flag} is in the table but no subcommand has it"));
    }
    assert!(
        problems.is_empty(),
        "README.md's configuration table is out of date:\n{}",
        problems.join("\n")
    );
}
