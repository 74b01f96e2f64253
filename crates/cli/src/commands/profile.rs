//! `authkit profile`: add, list, show, remove and choose the default.

use std::path::Path;

use crate::cli::{ProfileAddArgs, ProfileCommand};
use crate::exit::Failure;
use crate::profiles::ProfileFile;
use crate::settings::{Grant, Kind, Settings};

/// What a profile of its kind must name, checked when it is added so a
/// mistake shows now and not at the first sign-in.
pub fn check(name: &str, settings: &Settings) -> Result<(), Failure> {
    let missing = |what: &str| {
        Err(Failure::Usage(format!(
            "profile {name}: a {} profile needs {what}",
            settings.kind.as_str()
        )))
    };
    if name.is_empty() || name.contains([':', '#', '/', ' ']) {
        return Err(Failure::Usage(format!(
            "profile {name:?}: a name has no ':', '#', '/' or spaces"
        )));
    }
    match settings.kind {
        Kind::Voipex if settings.username.is_none() => missing("--username"),
        Kind::Vonage if settings.client_id.is_none() => missing("--client-id"),
        Kind::Generic => {
            if settings.issuer.is_none() && settings.token_url.is_none() {
                return missing("--issuer (discovery) or --token-url");
            }
            if settings.client_id.is_none() {
                return missing("--client-id");
            }
            match settings.grant {
                None => missing("--grant (password, client-credentials, code or device)"),
                Some(Grant::Password) if settings.username.is_none() => {
                    missing("--username for the password grant")
                }
                Some(Grant::Code)
                    if settings.issuer.is_none() && settings.authorize_url.is_none() =>
                {
                    missing("--issuer or --authorize-url for browser sign-in")
                }
                Some(Grant::Device)
                    if settings.issuer.is_none() && settings.device_url.is_none() =>
                {
                    missing("--issuer or --device-url for device sign-in")
                }
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// Runs a profile command against the file at `path`.
pub fn run(path: &Path, command: ProfileCommand) -> Result<(), Failure> {
    let mut file = ProfileFile::load(path)?;
    match command {
        ProfileCommand::Add(args) => add(path, &mut file, args),
        ProfileCommand::List => {
            list(&file);
            Ok(())
        }
        ProfileCommand::Show { name } => {
            let settings = file.get(&name)?;
            let text = toml::to_string_pretty(settings)
                .map_err(|e| Failure::Usage(format!("cannot show profile {name}: {e}")))?;
            print!(
                "# profile {name}{}\n{text}",
                if file.default.as_deref() == Some(name.as_str()) {
                    " (default)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        ProfileCommand::Remove { name } => {
            file.get(&name)?;
            file.profiles.remove(&name);
            if file.default.as_deref() == Some(name.as_str()) {
                file.default = None;
            }
            file.save(path)?;
            eprintln!(
                "Removed profile {name} (its account stays signed in until `authkit logout`)"
            );
            Ok(())
        }
        ProfileCommand::Default { name } => {
            file.get(&name)?;
            file.default = Some(name.clone());
            file.save(path)?;
            eprintln!("Default profile: {name}");
            Ok(())
        }
    }
}

fn add(path: &Path, file: &mut ProfileFile, args: Box<ProfileAddArgs>) -> Result<(), Failure> {
    let settings = args.settings();
    check(&args.name, &settings)?;
    let replaced = file.profiles.insert(args.name.clone(), settings).is_some();
    if args.default || file.profiles.len() == 1 {
        file.default = Some(args.name.clone());
    }
    file.save(path)?;
    eprintln!(
        "{} profile {} in {}",
        if replaced { "Replaced" } else { "Added" },
        args.name,
        path.display()
    );
    Ok(())
}

fn list(file: &ProfileFile) {
    if file.profiles.is_empty() {
        println!("No profiles (`authkit profile add NAME ...`)");
        return;
    }
    let rows: Vec<[String; 5]> = file
        .profiles
        .iter()
        .map(|(name, s)| {
            let mark = if file.default.as_deref() == Some(name.as_str()) {
                "*"
            } else {
                " "
            };
            [
                format!("{mark} {name}"),
                s.kind.as_str().to_owned(),
                s.grant.map_or("-", Grant::as_str).to_owned(),
                s.issuer
                    .clone()
                    .or_else(|| s.token_url.clone())
                    .or_else(|| s.base_url.clone())
                    .unwrap_or_else(|| "(the provider's default)".into()),
                s.client_id
                    .clone()
                    .or_else(|| s.username.clone())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["  PROFILE", "KIND", "GRANT", "SERVER", "CLIENT OR USER"].map(str::to_owned);
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
