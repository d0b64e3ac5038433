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
//!
//! A walk stays inside the model's bounds, as breadth first does (stateright never looks at a
//! state past them): an action that would leave them is drawn again. A chapter may also
//! **focus** the walks ([`Focus`]): weigh an action by the state it is taken in, when it knows
//! which moments matter. Chapter 6's lost writes need a crash at one moment of a thirty-step
//! path, right after a client was told a write succeeded; a crash drawn as often as any other
//! action comes almost always too early, and the walk has spent its one crash.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use stateright::actor::{ActorModel, ActorModelAction, ActorModelState};
use stateright::{Expectation, Model};

use super::checker::{
    self, init_states, links_of, next_state, Action, Checkable, NodeActor, Report, Search,
};
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

/// A state of the walked model.
pub type StateOf<P> = ActorModelState<NodeActor<P>>;

// ANCHOR: focus
/// A chapter's weight for taking `action` in `state`, which multiplies the walk's own: 1 leaves
/// the walk as it is, above 1 favours the action there, 0 never takes it there.
pub type Focus<P> = fn(&StateOf<P>, &Action<P>) -> f64;
// ANCHOR_END: focus

// ANCHOR: walks
/// Walk `model` at random from where `prefix` leads, `walks.walks` times, checking its
/// properties at every state; the first "always" that breaks ends the search, and its path
/// (shrunk, with the prefix in front) is the report's counterexample.
pub fn walk_randomly<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    walks: Walks,
) -> Report<P> {
    walk_focused(model, prefix, walks, None)
}

/// [`walk_randomly`], with the chapter's `focus` (if any) weighing each action.
pub fn walk_focused<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    prefix: Vec<Action<P>>,
    walks: Walks,
    focus: Option<Focus<P>>,
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
        let mut swarm = Swarm(HashMap::new());
        loop {
            states += 1;
            seen.insert(fingerprint(&state));
            depth = depth.max(path.len());
            // A state that breaks a property may be an example of a "sometimes" one too.
            note_examples(model, &state, path.len(), &mut examples);
            if let Some(name) = broken(model, &state) {
                counterexample = Some((name, path));
                break;
            }
            if path.len() == walks.steps || !model.within_boundary(&state) {
                break;
            }
            let Some((action, next)) = step_at_random(model, &state, &mut swarm, focus, &mut rng)
            else {
                break;
            };
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
        links: links_of(model),
    }
}
// ANCHOR_END: walks

/// The state `path` leads to from the model's start.
fn after<P: Checkable, C>(model: &ActorModel<NodeActor<P>, C>, path: &[Action<P>]) -> StateOf<P> {
    let start = init_states(model).into_iter().next().expect("the model has a start");
    path.iter().fold(start, |state, action| {
        next_state(model, &state, action.clone()).expect("the prefix is a path")
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

/// How much likelier a walk is to deliver a message than to fire a timer, crash or restart a
/// node, weights aside. Choosing evenly fires timers as often as it delivers: followers give up
/// on a live leader, elections follow one another, and the walk leaves the bounds before a
/// write is done.
const DELIVERY_WEIGHT: f64 = 4.0;

// ANCHOR: swarm
/// Each walk's own preferences: a weight in (0, 1] for each link, each node's each timer, each
/// crash and restart, drawn when the walk first meets it (the cube of a uniform draw, so most
/// are small and a few large). One walk then has a slow link that leaves a message in flight
/// for long, another a disk whose fsync comes late, another a crash that comes early: the
/// orders a bug needs are far likelier than under one even choice for every walk ("swarm
/// testing", Groce et al., ISSTA 2012).
struct Swarm(HashMap<u64, f64>);

impl Swarm {
    fn weight<P: Checkable>(&mut self, action: &Action<P>, rng: &mut Rng) -> f64 {
        let (key, base) = match action {
            // A link, whatever it carries.
            ActorModelAction::Deliver { src, dst, .. } => {
                (fingerprint(&(0, src, dst)), DELIVERY_WEIGHT)
            }
            other => (fingerprint(other), 1.0),
        };
        let draw = *self.0.entry(key).or_insert_with(|| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            (u * u * u).max(1e-3)
        });
        base * draw
    }
}
// ANCHOR_END: swarm

/// One of `state`'s actions, drawn at random by the walk's weights (times the chapter's
/// `focus`), among those that change something (stateright's `next_state` answers `None` for
/// an action that would not) and stay within the model's bounds.
fn step_at_random<P: Checkable, C>(
    model: &ActorModel<NodeActor<P>, C>,
    state: &StateOf<P>,
    swarm: &mut Swarm,
    focus: Option<Focus<P>>,
    rng: &mut Rng,
) -> Option<(Action<P>, StateOf<P>)> {
    let mut actions = Vec::new();
    checker::actions(model, state, &mut actions);
    let mut weighted: Vec<(f64, Action<P>)> = actions
        .into_iter()
        .map(|a| {
            let weight = swarm.weight::<P>(&a, rng) * focus.map_or(1.0, |f| f(state, &a));
            (weight, a)
        })
        .filter(|(weight, _)| *weight > 0.0)
        .collect();
    while !weighted.is_empty() {
        let total: f64 = weighted.iter().map(|(w, _)| w).sum();
        let mut at = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let k = weighted
            .iter()
            .position(|(w, _)| {
                at -= w;
                at < 0.0
            })
            .unwrap_or(weighted.len() - 1);
        let (_, action) = weighted.swap_remove(k);
        if let Some(next) = next_state(model, state, action.clone()) {
            if model.within_boundary(&next) {
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
        checker::actions(model, &state, &mut offered);
        if !offered.contains(action) {
            return None;
        }
        state = next_state(model, &state, action.clone())?;
    }
    (!(property.condition)(model, &state)).then_some(path.len())
}
