//! `/people/age`: youngest first, ties by id, persons with neither age nor date last.
//!
//! An estimated age grows with the calendar, so no sort key written once can stay right. The
//! stores instead keep persons in *groups* that never change: `Stated(age)`, `Graduated(year)`
//! and `Unplaced`, each listed by id. At read time, for today's date, effective age `e` is made
//! of three id-ordered sources: `Stated(e)`, the graduates of year `Y - e + 9` whose anniversary
//! has passed this year, and those of year `Y - e + 8` whose anniversary is still to come
//! (`Y` being this year). Merging them by id gives age `e` in order; walking the ages that the
//! group directory says are non-empty gives the whole list. See `docs/people.md`.

use super::{date, Person, PersonStore};
use crate::http::cursor::{Page, PageRequest};
use crate::StoreError;
use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// The group a person is stored in; it depends on the person only, never on the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeGroup {
    Stated(u8),
    Graduated(i32),
    Unplaced,
}

impl AgeGroup {
    /// The group as a key: `age#30`, `grad#1988`, `none`.
    pub fn key(self) -> String {
        match self {
            AgeGroup::Stated(age) => format!("age#{age}"),
            AgeGroup::Graduated(year) => format!("grad#{year}"),
            AgeGroup::Unplaced => "none".into(),
        }
    }

    /// The group of a key written by `key`; `None` for anything else.
    pub fn from_key(key: &str) -> Option<Self> {
        if key == "none" {
            return Some(AgeGroup::Unplaced);
        }
        if let Some(age) = key.strip_prefix("age#") {
            return age.parse().ok().map(AgeGroup::Stated);
        }
        key.strip_prefix("grad#")?
            .parse()
            .ok()
            .map(AgeGroup::Graduated)
    }
}

/// Which part of a graduation year a source covers, by month and day (`month_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    All,
    UpTo(u16),
    After(u16),
}

/// One id-ordered source of the age walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupQuery {
    pub group: AgeGroup,
    pub days: Days,
}

/// A place in the age order: the effective age (`None` for the unplaced) and the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgePosition {
    pub age: Option<u32>,
    pub id: u64,
}

/// A person as `/people/age` shows them: with `EstimatedAge` when placed by an estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    #[serde(flatten)]
    pub person: Person,
    #[serde(rename = "EstimatedAge", skip_serializing_if = "Option::is_none")]
    pub estimated_age: Option<u32>,
}

impl Placed {
    pub fn new(person: Person, today: Date) -> Self {
        let estimated_age = match (person.details.age, person.details.graduated) {
            (None, Some(graduated)) => Some(date::estimated_age(graduated, today)),
            _ => None,
        };
        Placed {
            person,
            estimated_age,
        }
    }

    pub fn position(&self) -> AgePosition {
        AgePosition {
            age: self
                .person
                .details
                .age
                .map(u32::from)
                .or(self.estimated_age),
            id: self.person.id,
        }
    }
}

/// Orders the unplaced (`None`) after every age.
type Rank = (bool, u32);

fn rank(age: Option<u32>) -> Rank {
    (age.is_none(), age.unwrap_or(0))
}

/// The sources of each effective age today, from the groups that have people.
fn plan(groups: &[AgeGroup], today: Date) -> BTreeMap<Rank, Vec<GroupQuery>> {
    let mut plan: BTreeMap<Rank, Vec<GroupQuery>> = BTreeMap::new();
    let mut add = |age: Option<u32>, group, days| {
        plan.entry(rank(age))
            .or_default()
            .push(GroupQuery { group, days });
    };
    let this_year = date::month_day(today);
    for &group in groups {
        match group {
            AgeGroup::Stated(age) => add(Some(u32::from(age)), group, Days::All),
            AgeGroup::Unplaced => add(None, group, Days::All),
            AgeGroup::Graduated(year) => {
                let Ok(years) = u32::try_from(today.year() - year) else {
                    continue;
                };
                let passed = date::AGE_AT_GRADUATION + years;
                add(Some(passed), group, Days::UpTo(this_year));
                if years > 0 {
                    add(Some(passed - 1), group, Days::After(this_year));
                }
            }
        }
    }
    plan
}

/// The most ages one wave of a page reads at once. Waves grow 1, 2, 4, ... up to this: a dense
/// directory fills a page from its first ages at the cost of a sequential walk, and a sparse
/// one (many ages of few people) needs a few round trips instead of one per age.
const MAX_AGES_PER_WAVE: usize = 16;

/// The persons of one age after the cursor, by id: its sources read concurrently.
async fn persons_of_age(
    store: &dyn PersonStore,
    sources: &[GroupQuery],
    after: Option<u64>,
    need: usize,
) -> Result<Vec<Person>, StoreError> {
    let lists = try_join_all(sources.iter().map(|s| store.in_group(s, after, need))).await?;
    let mut persons: Vec<Person> = lists.into_iter().flatten().collect();
    persons.sort_by_key(|p| p.id);
    persons.truncate(need);
    Ok(persons)
}

/// One page of `/people/age` as of `today`: the ages the directory lists, upwards from the
/// cursor, read in concurrent waves of ages (at most `MAX_AGES_PER_WAVE` ages, each with up
/// to 3 Queries) until the page is full.
pub async fn page(
    store: &dyn PersonStore,
    page: &PageRequest<AgePosition>,
    today: Date,
) -> Result<Page<Placed, AgePosition>, StoreError> {
    let want = page.limit + 1;
    let start = page.after.map(|p| rank(p.age)).unwrap_or((false, 0));
    let plan = plan(&store.age_groups().await?, today);
    let mut ages = plan.range(start..).peekable();
    let mut placed = Vec::new();
    let mut wave = 1;
    while placed.len() < want && ages.peek().is_some() {
        let need = want - placed.len();
        let reads = ages.by_ref().take(wave).map(|(bucket, sources)| {
            let after = page.after.filter(|p| rank(p.age) == *bucket).map(|p| p.id);
            persons_of_age(store, sources, after, need)
        });
        for persons in try_join_all(reads).await? {
            placed.extend(persons.into_iter().map(|p| Placed::new(p, today)));
        }
        wave = (wave * 2).min(MAX_AGES_PER_WAVE);
    }
    placed.truncate(want);
    Ok(Page::from_lookahead(placed, page.limit, Placed::position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::date::tests::day;

    #[test]
    fn group_keys_round_trip() {
        for group in [
            AgeGroup::Stated(0),
            AgeGroup::Stated(150),
            AgeGroup::Graduated(1988),
            AgeGroup::Unplaced,
        ] {
            assert_eq!(AgeGroup::from_key(&group.key()), Some(group));
        }
        assert_eq!(AgeGroup::from_key("age#x"), None);
        assert_eq!(AgeGroup::from_key("seq"), None);
    }

    #[test]
    fn a_graduation_year_feeds_two_ages_split_at_today() {
        let today = day("2025-06-15");
        let plan = plan(
            &[
                AgeGroup::Graduated(1988),
                AgeGroup::Stated(45),
                AgeGroup::Unplaced,
                AgeGroup::Graduated(2025),
            ],
            today,
        );
        let graduated = |year| AgeGroup::Graduated(year);
        assert_eq!(
            plan[&(false, 46)],
            vec![GroupQuery {
                group: graduated(1988),
                days: Days::UpTo(615)
            }]
        );
        assert_eq!(plan[&(false, 45)].len(), 2);
        assert_eq!(
            plan[&(false, 9)],
            vec![GroupQuery {
                group: graduated(2025),
                days: Days::UpTo(615)
            }]
        );
        assert_eq!(plan.keys().last(), Some(&(true, 0)));
        assert_eq!(plan.len(), 4);
    }

    #[test]
    fn the_split_agrees_with_the_estimate() {
        let today = day("2025-06-15");
        let plan = plan(&[AgeGroup::Graduated(1988)], today);
        for (graduated, days) in [
            ("1988-06-15", Days::UpTo(615)),
            ("1988-06-16", Days::After(615)),
        ] {
            let age = date::estimated_age(day(graduated), today);
            assert!(
                plan[&(false, age)].iter().any(|q| q.days == days),
                "{graduated}"
            );
        }
    }
}
