//! Random walks through the checker's model: for bugs too deep to reach breadth first.
//!
//! Breadth first finds the shortest path to a broken property, but pays for it: it holds every
//! state at one depth before it looks at the next, and the states per depth grow by a factor
//! (about three for chapter 6's ensemble). A bug that needs thirty events after an election is
//! out of its reach. A **random walk** goes deep at once: from the start, take one of the
//! state's actions at random, then another, checking every "always" property at each state, up
//! to a length; then start again. It proves nothing when it finds nothing, but what it finds is
//! a real path of the same model, so it replays in the simulator like any counterexample.
//!
//! A walk's path is long and mostly beside the point (pings, a crash that changes nothing).
//! [`shrink`] cuts it down: drop a run of steps, keep the cut if the rest is still a path of the
//! model and still breaks the property, until no single step can go. What remains is short
//! enough to read (a dozen or two steps, where the walk took a hundred).
//!
//! Each walk draws its choices from chapter 4's seeded [`Rng`], so `--walks N --seed S` finds
//! the same counterexample every time.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use stateright::actor::{ActorModel, ActorModelAction, ActorModelState};
use stateright::{Expectation, Model};

use super::checker::{duplicates, Action, Checkable, NodeActor, Report, Search};
use super::Rng;

/// How many walks, how long each may be, and the seed of their choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walks {
    /// How many walks to take (the search stops at the first that breaks a property).
    pub walks: usize,
    /// The most actions one walk takes.
    pub steps: usize,
    /// The seed every walk's choices are drawn from.
    pub seed: u64,
}

type StateOf<P> = ActorModelState<NodeActor<P>>;

// ANCHOR: walks
/// Walk `model` at random from where `prefix` leads, `walks.walks` times, checking its
/// properties at every state; the first "always" that breaks ends the search, and its path
/// (shrunk, with the prefix in front) is the report's counterexample.
pub fn walk_randomly<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    walks: Walks,
) -> Report<P> {
    let started = Instant::now();
    let start = after(model, &prefix);
    let mut rng = Rng::new(walks.seed);
    let mut seen = HashSet::new();
    let mut examples: Vec<(&'static str, Option<usize>)> = model
        .properties
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
        .map(|p| (p.name, None))
        .collect();
    let (mut states, mut depth, mut counterexample) = (0, 0, None);
    for _ in 0..walks.walks {
        let mut state = start.clone();
        let mut path: Vec<Action<P>> = Vec::new();
        loop {
            states += 1;
            seen.insert(fingerprint(&state));
            depth = depth.max(path.len());
            if let Some(name) = broken(model, &state) {
                counterexample = Some((name, path));
                break;
            }
            note_examples(model, &state, path.len(), &mut examples);
            if path.len() == walks.steps || !model.within_boundary(&state) {
                break;
            }
            let Some((action, next)) = step_at_random(model, &state, &mut rng) else { break };
            path.push(action);
            state = next;
        }
        if counterexample.is_some() {
            break;
        }
    }
    let counterexample = counterexample.map(|(name, path)| {
        let mut shrunk = prefix.clone();
        shrunk.extend(shrink(model, &start, path, name));
        (name, shrunk)
    });
    Report {
        states,
        unique: seen.len(),
        depth,
        elapsed: started.elapsed(),
        exhausted: false,
        counterexample,
        examples,
        search: Search::Walks(walks),
        duplicating: duplicates(model),
    }
}
// ANCHOR_END: walks

/// The state `path` leads to from the model's start.
fn after<P: Checkable, C>(model: &ActorModel<NodeActor<P>, C>, path: &[Action<P>]) -> StateOf<P> {
    let start = model.init_states().into_iter().next().expect("the model has a start");
    path.iter().fold(start, |state, action| {
        model.next_state(&state, action.clone()).expect("the prefix is a path")
    })
}

fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The first "always" property `state` breaks.
fn broken<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    state: &StateOf<P>,
) -> Option<&'static str> {
    model
        .properties
        .iter()
        .find(|p| p.expectation == Expectation::Always && !(p.condition)(model, state))
        .map(|p| p.name)
}

fn note_examples<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    state: &StateOf<P>,
    steps: usize,
    examples: &mut [(&'static str, Option<usize>)],
) {
    for (name, shortest) in examples.iter_mut() {
        let property = model.properties.iter().find(|p| p.name == *name).expect("listed");
        if (property.condition)(model, state) && shortest.is_none_or(|n| steps < n) {
            *shortest = Some(steps);
        }
    }
}

/// How often a walk delivers a message when it could also fire a timer, crash or restart a
/// node. Uniform choice fires timers as often as it delivers: followers give up on a live
/// leader, elections follow one another, and the walk leaves the bounds before a write is
/// done. Favouring messages lets a run make progress, and its faults still come at random.
const DELIVER_CHANCE: f64 = 0.8;

/// One of `state`'s actions, drawn at random among those that change something (stateright's
/// `next_state` answers `None` for an action that would not): a delivery with
/// [`DELIVER_CHANCE`], if there is one, else any other action.
fn step_at_random<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    state: &StateOf<P>,
    rng: &mut Rng,
) -> Option<(Action<P>, StateOf<P>)> {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    let (mut deliveries, mut others): (Vec<_>, Vec<_>) =
        actions.into_iter().partition(|a| matches!(a, ActorModelAction::Deliver { .. }));
    let (first, second) = if rng.chance(DELIVER_CHANCE) {
        (&mut deliveries, &mut others)
    } else {
        (&mut others, &mut deliveries)
    };
    for actions in [first, second] {
        while !actions.is_empty() {
            let k = rng.between(0, actions.len() as u64 - 1) as usize;
            let action = actions.swap_remove(k);
            if let Some(next) = model.next_state(state, action.clone()) {
                return Some((action, next));
            }
        }
    }
    None
}

// ANCHOR: shrink
/// `path` (from `start`, breaking `property`) cut down: runs of steps dropped, halves first,
/// then smaller runs, down to single steps, as long as what is left is still a path of the
/// model that breaks `property`. It ends at the first state that breaks it.
pub fn shrink<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    start: &StateOf<P>,
    path: Vec<Action<P>>,
    property: &str,
) -> Vec<Action<P>> {
    let breaks = |path: &[Action<P>]| breaks_after(model, start, path, property);
    let mut path = match breaks(&path) {
        Some(n) => path[..n].to_vec(),
        None => return path,
    };
    let mut run = path.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        let mut cut_any = false;
        while i < path.len() {
            let end = (i + run).min(path.len());
            let shorter: Vec<_> = path[..i].iter().chain(&path[end..]).cloned().collect();
            match breaks(&shorter) {
                Some(n) => {
                    path = shorter[..n].to_vec();
                    cut_any = true;
                }
                None => i += run,
            }
        }
        if run == 1 && !cut_any {
            return path;
        }
        if !cut_any {
            run = run.div_ceil(2);
        }
    }
}
// ANCHOR_END: shrink

/// How many steps of `path` it takes to break `property`, if `path` is a path of the model
/// (each action one the state offers, none out of bounds) and does break it.
fn breaks_after<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    start: &StateOf<P>,
    path: &[Action<P>],
    property: &str,
) -> Option<usize> {
    let property = model.properties.iter().find(|p| p.name == property)?;
    let mut state = start.clone();
    for (i, action) in path.iter().enumerate() {
        if !(property.condition)(model, &state) {
            return Some(i);
        }
        if !model.within_boundary(&state) {
            return None;
        }
        let mut offered = Vec::new();
        model.actions(&state, &mut offered);
        if !offered.contains(action) {
            return None;
        }
        state = model.next_state(&state, action.clone())?;
    }
    (!(property.condition)(model, &state)).then_some(path.len())
}
