//! Each recipe's story, told line by line: what `cargo run -p ch03-sessions --example recipes`
//! prints against a running server, and what the root tests pin against `keeper server` and a
//! real ZooKeeper 3.8.
//!
//! The idea to take away: **a story about many clients is only repeatable if it waits for
//! events, not for time.** Each story drives its clients one step at a time from one task, and
//! after each step it *settles*: every client makes one round trip to the server (a *fence*).
//! A server sends a client its watch events before the answer to any later request of that
//! client (ZooKeeper's ordering guarantee), so when the fence's answer is back, every doorbell
//! the step rang is in that client's channel. The story then counts them, lets each rung
//! client take its look, and settles again until nothing rings. No sleeps, and the same lines
//! on every run and on both servers.
//!
//! Every story works under a `root` path of its own, which it removes first and last, so
//! sequence numbers start at 0 and a rerun prints the same.

use std::fmt::Write;

use ch01_znode::{CreateMode, EventType};

use super::balance::Balancer;
use super::barrier::Barrier;
use super::config::Subscription;
use super::election::Election;
use super::lock::{Design, Lock, Ticket, Turn};
use super::naming::Registry;
use super::{create, delete_all, exists, Events, Result};
use crate::client::Client;

/// One client of a story: its name, its connection and its event channel.
pub struct Actor {
    /// What the story calls it (`c1`, `web-1`).
    pub name: String,
    /// Its session.
    pub client: Client,
    /// Its watch events.
    pub events: Events,
}

impl Actor {
    /// Names a connected client.
    pub fn new(name: &str, (client, events): (Client, Events)) -> Actor {
        Actor {
            name: name.to_string(),
            client,
            events,
        }
    }

    // ANCHOR: fence
    /// One round trip, then every node event the server sent before it, taken from the
    /// channel. The server writes a client's watch events before its answer to any later
    /// request, so after the answer nothing rung earlier is still on the way.
    pub async fn fence(&mut self) -> Result<Vec<String>> {
        exists(&self.client, "/", false).await?;
        let mut rung = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if event.event_type != EventType::None {
                let path = event.path.unwrap_or_default();
                rung.push(format!("{} {path}", event.event_type));
            }
        }
        Ok(rung)
    }
    // ANCHOR_END: fence
}

/// A story's lines.
#[derive(Default)]
struct Story(String);

impl Story {
    fn say(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }
}

/// Where a lock waiter stands in the herd count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Waiting,
    Holding,
    Done,
}

/// One client of the herd count.
struct Waiter {
    actor: Actor,
    ticket: Ticket,
    stage: Stage,
    rung: usize,
    looks: usize,
}

/// What the herd count found: the story, and each client's doorbells and looks, in join order.
#[derive(Clone, Debug)]
pub struct HerdCount {
    /// The story and its table, as printed.
    pub text: String,
    /// The table alone: each client's doorbells and looks, and the totals.
    pub table: String,
    /// How many node events each client heard.
    pub doorbells: Vec<usize>,
    /// How many times each client read the queue.
    pub looks: Vec<usize>,
}

// ANCHOR: herd
/// The lock taken in turn by `actors` (the first takes it, the others queue one after the
/// other, then each releases in turn), told step by step, with a count of the doorbells each
/// client heard and the looks (reads of the queue) it took. Run it with both designs to see the
/// herd: with `Design::Parent` every join and every release rings every waiter.
pub async fn herd(actors: Vec<Actor>, root: &str, design: Design) -> Result<HerdCount> {
    let first = actors.first().expect("at least one client").client.clone();
    let first = &first;
    delete_all(first, root).await?;
    let lock = Lock::with_design(&format!("{root}/lock"), design);
    let mut story = Story::default();
    story.say(format!(
        "{} clients take the lock {root}/lock in turn; waiters watch {}",
        actors.len(),
        match design {
            Design::Predecessor => "the node before theirs",
            Design::Parent => "the parent's children",
        }
    ));
    let mut waiters: Vec<Waiter> = Vec::new();
    for actor in actors {
        let ticket = lock.queue().join(&actor.client, b"").await?;
        let turn = lock.queue().check(&actor.client, &ticket).await?;
        story.say(match &turn {
            Turn::First => format!("{} joins as {} and holds the lock", actor.name, ticket.name),
            Turn::Waiting { watching } => format!(
                "{} joins as {} and waits, watching {watching}",
                actor.name, ticket.name
            ),
        });
        let stage = if turn == Turn::First {
            Stage::Holding
        } else {
            Stage::Waiting
        };
        waiters.push(Waiter {
            actor,
            ticket,
            stage,
            rung: 0,
            looks: 1,
        });
        settle(&lock, &mut waiters, &mut story).await?;
    }
    while let Some(holder) = waiters.iter_mut().find(|w| w.stage == Stage::Holding) {
        lock.release(&holder.actor.client, &holder.ticket).await?;
        holder.stage = Stage::Done;
        story.say(format!(
            "{} releases {}",
            holder.actor.name, holder.ticket.name
        ));
        settle(&lock, &mut waiters, &mut story).await?;
    }
    let mut table = Story::default();
    table.say("client  node             doorbells  looks");
    for w in &waiters {
        table.say(format!(
            "{:<7} {:<16} {:>9}  {:>5}",
            w.actor.name, w.ticket.name, w.rung, w.looks
        ));
    }
    let (rung, looks): (usize, usize) = waiters
        .iter()
        .fold((0, 0), |(r, l), w| (r + w.rung, l + w.looks));
    table.say(format!("total   {:<16} {rung:>9}  {looks:>5}", ""));
    delete_all(first, root).await?;
    Ok(HerdCount {
        text: format!("{}\n{}", story.0, table.0),
        table: table.0,
        doorbells: waiters.iter().map(|w| w.rung).collect(),
        looks: waiters.iter().map(|w| w.looks).collect(),
    })
}

/// Fences every client, counts what rang, and lets each rung waiter look again, until a whole
/// round rings nobody.
async fn settle(lock: &Lock, waiters: &mut [Waiter], story: &mut Story) -> Result<()> {
    loop {
        let mut quiet = true;
        for w in waiters.iter_mut() {
            let rung = w.actor.fence().await?;
            if rung.is_empty() {
                continue;
            }
            quiet = false;
            w.rung += rung.len();
            let heard = rung.join(", ");
            if w.stage != Stage::Waiting {
                story.say(format!(
                    "  {} hears {heard} (it is not waiting)",
                    w.actor.name
                ));
                continue;
            }
            w.looks += 1;
            match lock.queue().check(&w.actor.client, &w.ticket).await? {
                Turn::First => {
                    w.stage = Stage::Holding;
                    story.say(format!(
                        "  {} hears {heard}, looks: holds the lock",
                        w.actor.name
                    ));
                }
                Turn::Waiting { .. } => {
                    story.say(format!(
                        "  {} hears {heard}, looks: still waiting",
                        w.actor.name
                    ));
                }
            }
        }
        if quiet {
            return Ok(());
        }
    }
}
// ANCHOR_END: herd

/// Three candidates; the leader's process ends; the next one takes over, and only it is told.
pub async fn election(mut actors: Vec<Actor>, root: &str) -> Result<String> {
    delete_all(&actors[0].client, root).await?;
    let election = Election::new(&format!("{root}/election"));
    let mut story = Story::default();
    let mut candidacies = Vec::new();
    for actor in &actors {
        let candidacy = election.volunteer(&actor.client, &actor.name).await?;
        let leads = election.leads(&actor.client, &candidacy).await?;
        let role = if leads { "leads" } else { "follows" };
        story.say(format!(
            "{} volunteers as {} and {role}",
            actor.name, candidacy.ticket.name
        ));
        candidacies.push(candidacy);
    }
    let leader = election.leader(&actors[1].client).await?;
    story.say(format!(
        "who leads? {}",
        leader.as_deref().unwrap_or("nobody")
    ));
    let gone = actors.remove(0);
    candidacies.remove(0);
    gone.client.close().await?;
    story.say(format!(
        "{}'s session ends: its node goes with it",
        gone.name
    ));
    for (actor, candidacy) in actors.iter_mut().zip(&candidacies) {
        let rung = actor.fence().await?;
        if rung.is_empty() {
            story.say(format!("  {} hears nothing", actor.name));
            continue;
        }
        let leads = election.leads(&actor.client, candidacy).await?;
        let role = if leads { "leads" } else { "follows" };
        story.say(format!(
            "  {} hears {}, looks: {role}",
            actor.name,
            rung.join(", ")
        ));
    }
    let leader = election.leader(&actors[0].client).await?;
    story.say(format!(
        "who leads? {}",
        leader.as_deref().unwrap_or("nobody")
    ));
    delete_all(&actors[0].client, root).await?;
    Ok(story.0)
}

/// Two servers bind the name `web`; a client resolves it, one server stops, the client is told
/// and resolves again; then two unique names.
pub async fn naming(mut actors: Vec<Actor>, root: &str) -> Result<String> {
    let [web1, web2, user] = &mut actors[..] else {
        panic!("the naming story needs three clients");
    };
    delete_all(&user.client, root).await?;
    let registry = Registry::new(&format!("{root}/naming"));
    let mut story = Story::default();
    for (server, address) in [(&*web1, "127.0.0.1:8081"), (&*web2, "127.0.0.1:8082")] {
        let node = registry.bind(&server.client, "web", address).await?;
        story.say(format!("{} binds web → {address} as {node}", server.name));
    }
    let found = registry.resolve(&user.client, "web", true).await?;
    story.say(format!("{} resolves web: {}", user.name, found.join(", ")));
    web1.client.close().await?;
    story.say(format!("{}'s session ends", web1.name));
    let rung = user.fence().await?;
    story.say(format!("  {} hears {}", user.name, rung.join(", ")));
    let found = registry.resolve(&user.client, "web", false).await?;
    story.say(format!("{} resolves web: {}", user.name, found.join(", ")));
    for _ in 0..2 {
        let name = registry.unique_name(&user.client, "job-").await?;
        story.say(format!("{} asks for a unique name: {name}", user.name));
    }
    delete_all(&user.client, root).await?;
    Ok(story.0)
}

/// Three servers join; a client picks six times; one server goes down; two more picks.
pub async fn balance(actors: Vec<Actor>, root: &str) -> Result<String> {
    let (servers, user) = actors.split_at(actors.len() - 1);
    let user = &user[0];
    delete_all(&user.client, root).await?;
    let balancer = Balancer::new(&format!("{root}/balance"));
    let mut story = Story::default();
    for server in servers {
        balancer.join(&server.client, &server.name).await?;
    }
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    story.say(format!(
        "{} join {root}/balance with 0 visits",
        names.join(", ")
    ));
    let picks = |story: &mut Story, picked: Vec<String>| {
        story.say(format!("{} picks: {}", user.name, picked.join(" ")));
    };
    let mut picked = Vec::new();
    for _ in 0..6 {
        picked.push(balancer.pick(&user.client).await?.unwrap_or_default());
    }
    picks(&mut story, picked);
    story.say(format!("visits: {}", loads(&balancer, &user.client).await?));
    servers[1].client.close().await?;
    story.say(format!("{}'s session ends", servers[1].name));
    let mut picked = Vec::new();
    for _ in 0..2 {
        picked.push(balancer.pick(&user.client).await?.unwrap_or_default());
    }
    picks(&mut story, picked);
    story.say(format!("visits: {}", loads(&balancer, &user.client).await?));
    delete_all(&user.client, root).await?;
    Ok(story.0)
}

async fn loads(balancer: &Balancer, client: &Client) -> Result<String> {
    let mut text = String::new();
    for (name, visits, _) in balancer.loads(client).await? {
        let _ = write!(
            text,
            "{}{name}={visits}",
            if text.is_empty() { "" } else { " " }
        );
    }
    Ok(text)
}

/// Two subscribers read a configuration; the operator sets it once, then twice in a row.
pub async fn config(mut actors: Vec<Actor>, root: &str) -> Result<String> {
    let operator = actors.remove(0);
    delete_all(&operator.client, root).await?;
    let path = format!("{root}/config/db.url");
    let subscription = Subscription::new(&path);
    let mut story = Story::default();
    super::ensure_path(&operator.client, &format!("{root}/config")).await?;
    create(
        &operator.client,
        &path,
        b"mysql://db1",
        CreateMode::Persistent,
    )
    .await?;
    story.say(format!("{} writes {path} = mysql://db1", operator.name));
    for s in &actors {
        let value = subscription.read(&s.client).await?;
        story.say(format!("{} reads {}", s.name, text(&value)));
    }
    for values in [&["mysql://db2"][..], &["mysql://db3", "mysql://db4"]] {
        for value in values {
            operator
                .client
                .set_data(&path, value.as_bytes(), -1)
                .await?;
            story.say(format!("{} sets {value}", operator.name));
        }
        for s in &mut actors {
            let value = subscription.next(&s.client, &mut s.events).await?;
            let more = s.fence().await?;
            story.say(format!(
                "  {} is told, re-reads {} ({} more doorbells)",
                s.name,
                text(&value),
                more.len()
            ));
        }
    }
    delete_all(&operator.client, root).await?;
    Ok(story.0)
}

fn text(value: &Option<Vec<u8>>) -> String {
    match value {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => "(no node)".into(),
    }
}

/// Three workers meet at a barrier, then leave it, told from an observer's child watch.
pub async fn barrier(mut actors: Vec<Actor>, root: &str) -> Result<String> {
    let mut observer = actors.remove(0);
    delete_all(&observer.client, root).await?;
    let dir = format!("{root}/barrier");
    let barrier = Barrier::new(&dir, actors.len());
    let mut story = Story::default();
    super::ensure_path(&observer.client, &dir).await?;
    story.say(format!("{} workers meet at {dir}", actors.len()));
    let mut entering = Vec::new();
    for actor in actors {
        let watched = inside(&observer, &dir).await?;
        let worker_barrier = barrier.clone();
        entering.push(tokio::spawn(async move {
            let mut actor = actor;
            let entered = worker_barrier
                .enter(&actor.client, &mut actor.events, &actor.name)
                .await;
            entered.map(|()| actor)
        }));
        // Wait until the worker's node is in (the observer's child watch rings), so the next
        // one enters after it and the story reads the same every time.
        let now = wait_for_change(&mut observer, &dir, &watched).await?;
        // Nobody may be through while somebody is still missing: a worker that returned from
        // `enter` early would show here (and break the story's snapshot). Once the last one is
        // in, they may go at any moment, so that count is not told.
        let mut line = format!("inside: {}", now.join(" "));
        if now.len() < barrier.size() {
            let through = entering.iter().filter(|task| task.is_finished()).count();
            line += &format!("; through: {through}");
        }
        story.say(line);
    }
    let mut inside = Vec::new();
    for task in entering {
        inside.push(task.await.expect("an entering worker does not panic")?);
    }
    let names: Vec<&str> = inside.iter().map(|a| a.name.as_str()).collect();
    story.say(format!("all passed the barrier: {}", names.join(" ")));
    let mut leaving = Vec::new();
    for actor in inside {
        let barrier = barrier.clone();
        leaving.push(tokio::spawn(async move {
            let mut actor = actor;
            barrier
                .leave(&actor.client, &mut actor.events, &actor.name)
                .await
                .map(|()| actor.name)
        }));
    }
    for task in leaving {
        task.await.expect("a leaving worker does not panic")?;
    }
    let left = super::children(&observer.client, &dir, false).await?;
    story.say(format!("all left; {dir} holds [{}]", left.join(", ")));
    delete_all(&observer.client, root).await?;
    Ok(story.0)
}

/// The workers inside the barrier at `dir` (not its `ready` sign), leaving a child watch.
async fn inside(observer: &Actor, dir: &str) -> Result<Vec<String>> {
    let mut names = super::children(&observer.client, dir, true).await?;
    names.retain(|n| n != "ready");
    Ok(names)
}

/// Waits (on the observer's child watch) until the workers inside differ from `before`.
async fn wait_for_change(
    observer: &mut Actor,
    dir: &str,
    before: &[String],
) -> Result<Vec<String>> {
    loop {
        super::doorbell(&mut observer.events).await?;
        let now = inside(observer, dir).await?;
        if now != before {
            return Ok(now);
        }
    }
}
