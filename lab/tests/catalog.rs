//! The catalogue, the marked sources, the graders and the book agree with each other.
//!
//! Fast (no chapter is built): these read files. The slow proof that every student edition
//! compiles and fails its grader is `tests/editions.rs`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use keeper_lab::catalog::{heading_id, CHAPTERS_WITHOUT_LABS_YET};
use keeper_lab::repo::{self, Status};
use keeper_lab::{Holder, Marked, LABS};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lab/ sits in the repository")
        .to_path_buf()
}

fn read(path: impl AsRef<Path>) -> String {
    let path = root().join(path);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn lab_ids_are_unique_and_in_book_order() {
    let ids: Vec<(u32, u32)> = LABS
        .iter()
        .map(|l| {
            let (c, n) = l.id.split_once('.').unwrap();
            (c.parse().unwrap(), n.parse().unwrap())
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
}

#[test]
fn every_lab_has_regions_and_every_region_a_lab() {
    let files = repo::scan(&root()).unwrap();
    let listed: BTreeSet<&str> = LABS.iter().map(|l| l.id).collect();
    for file in &files {
        for region in file.marked.regions() {
            assert!(
                listed.contains(region.lab.as_str()),
                "{}:{}: lab {} is not in lab/src/catalog.rs",
                file.path,
                region.line,
                region.lab
            );
        }
    }
    for lab in LABS {
        assert_ne!(
            repo::status(&files, lab.id),
            Status::Missing,
            "lab {} has no marked region in the sources",
            lab.id
        );
    }
}

#[test]
fn the_repository_ships_every_answer() {
    // A started lab committed by mistake would hand every student an empty region and make
    // its grader fail for everybody.
    let files = repo::scan(&root()).unwrap();
    for file in &files {
        for region in file.marked.regions() {
            assert_eq!(
                region.holder,
                Holder::Answer,
                "{}:{}: lab {} is started in the repository; restore its answer",
                file.path,
                region.line,
                region.lab
            );
        }
    }
}

#[test]
fn starting_every_lab_leaves_no_answer_and_parses_back() {
    for file in repo::scan(&root()).unwrap() {
        let mut marked = file.marked;
        for lab in LABS {
            marked.start(lab.id);
        }
        let student = Marked::parse(&marked.render())
            .unwrap_or_else(|e| panic!("{}'s student edition: {e}", file.path));
        for region in student.regions() {
            assert_eq!(region.holder, Holder::Student);
            assert!(region.is_untouched(), "{}:{}", file.path, region.line);
        }
    }
}

/// The names of the test functions in a grading target whose name starts with `lab_`. The root
/// package (`keeper`, the whole ensemble) keeps its tests in the top folder's `tests/`.
fn lab_tests_in(package: &str, target: &str) -> BTreeSet<String> {
    let folder = if package == "keeper" {
        String::new()
    } else {
        format!("chapters/{package}/")
    };
    read(format!("{folder}tests/{target}.rs"))
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("fn lab_"))
        .map(|rest| format!("lab_{}", rest.split('(').next().unwrap()))
        .collect()
}

#[test]
fn every_check_is_a_test_of_its_target_and_every_lab_test_is_a_check() {
    let targets: BTreeSet<(&str, &str)> = LABS.iter().map(|l| (l.package, l.target)).collect();
    for (package, target) in targets {
        let listed: BTreeSet<String> = LABS
            .iter()
            .filter(|l| (l.package, l.target) == (package, target))
            .flat_map(|l| l.checks.iter().map(|c| c.name.to_string()))
            .collect();
        let found = lab_tests_in(package, target);
        assert_eq!(
            listed, found,
            "chapters/{package}/tests/{target}.rs: the lab_* tests and the catalogue's checks differ"
        );
    }
    for lab in LABS {
        assert!(!lab.checks.is_empty(), "lab {} has no check", lab.id);
        for check in lab.checks {
            assert!(
                check.name.starts_with(&lab.prefix()),
                "{} does not start with {}",
                check.name,
                lab.prefix()
            );
            assert!(!check.hint.is_empty(), "{} has no hint", check.name);
        }
    }
}

#[test]
fn every_chapter_has_at_least_two_labs() {
    for entry in fs::read_dir(root().join("chapters")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if CHAPTERS_WITHOUT_LABS_YET.contains(&name.as_str()) {
            continue;
        }
        let labs = LABS.iter().filter(|l| l.package == name).count();
        assert!(
            labs >= 2,
            "{name} has {labs} graded lab(s); every chapter needs two (or, while its labs are being written, a place in CHAPTERS_WITHOUT_LABS_YET)"
        );
    }
}

/// The ids mdBook gives the headings of a page.
fn heading_ids(page: &str) -> BTreeSet<String> {
    read(format!("book/src/{page}"))
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| heading_id(l.trim_start_matches('#').trim()))
        .collect()
}

#[test]
fn every_lab_has_its_heading_in_the_book() {
    for lab in LABS {
        assert!(
            heading_ids(lab.page).contains(&lab.book_anchor()),
            "book/src/{} has no heading `### Lab {}: {}`",
            lab.page,
            lab.id,
            lab.title
        );
    }
}

#[test]
fn the_labs_index_lists_every_lab_with_its_command() {
    let index = read("book/src/appendix-labs.md");
    let rows: Vec<&str> = index.lines().filter(|l| l.starts_with("| ")).collect();
    for lab in LABS {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("[{}", lab.id)))
            .unwrap_or_else(|| panic!("the labs index has no row for lab {}", lab.id));
        for must in [
            format!("({})", lab.book_link()),
            format!("`cargo run -- lab check {}`", lab.id),
            format!("`{}`", lab.cargo_command()),
        ] {
            assert!(
                row.contains(&must),
                "lab {}'s row lacks {must}:\n{row}",
                lab.id
            );
        }
    }
    let labs_in_index = rows.iter().filter(|r| r.contains("lab check")).count();
    assert_eq!(labs_in_index, LABS.len(), "rows for labs that do not exist");
}
