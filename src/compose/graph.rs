//! Dependency graph over service names: which service depends on which,
//! start-up levels, teardown levels, dependency closures and cycle reports.
//!
//! This module owns ordering only. It must not know what a service is, read
//! `depends_on` conditions, or validate that names exist in a project: callers
//! add the edges they mean. Every traversal is iterative (deep chains must not
//! overflow the stack) and every output is sorted by name, so the same graph
//! gives the same answer whatever order it was built in.

use std::collections::{BTreeMap, BTreeSet};

/// Directed graph where an edge `from -> to` means "`from` depends on `to`".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    deps: BTreeMap<String, BTreeSet<String>>,
}

/// A dependency cycle, written as a closed walk along "depends on" edges.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("dependency cycle: {}", .path.join(" -> "))]
pub struct Cycle {
    /// Starts and ends with the smallest name on the cycle, e.g.
    /// `["a", "b", "c", "a"]`; a self-dependency is `["a", "a"]`.
    pub path: Vec<String>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, n: &str) {
        if !self.deps.contains_key(n) {
            self.deps.insert(n.to_owned(), BTreeSet::new());
        }
    }

    /// Records that `from` depends on `depends_on`, adding both nodes.
    pub fn add_edge(&mut self, from: &str, depends_on: &str) {
        self.add_node(depends_on);
        self.deps
            .entry(from.to_owned())
            .or_default()
            .insert(depends_on.to_owned());
    }

    /// All nodes, sorted by name.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.deps.keys().map(String::as_str)
    }

    /// What `n` depends on directly, sorted; empty for unknown nodes.
    pub fn dependencies(&self, n: &str) -> impl Iterator<Item = &str> {
        self.deps.get(n).into_iter().flatten().map(String::as_str)
    }

    /// What depends on `n` directly, sorted.
    pub fn dependents(&self, n: &str) -> Vec<&str> {
        self.deps
            .iter()
            .filter(|(_, deps)| deps.contains(n))
            .map(|(node, _)| node.as_str())
            .collect()
    }

    /// Start-up order: level 0 holds the nodes without dependencies, and each
    /// later level the nodes whose dependencies all sit in earlier levels.
    /// Each level is sorted by name; the nodes of one level can start in
    /// parallel.
    pub fn levels(&self) -> Result<Vec<Vec<String>>, Cycle> {
        if let Some(cycle) = self.find_cycle() {
            return Err(cycle);
        }
        let index = Indexed::new(self);
        let mut waiting: Vec<usize> = index.deps.iter().map(Vec::len).collect();
        let mut current: Vec<usize> = (0..index.names.len())
            .filter(|&i| waiting[i] == 0)
            .collect();
        let mut levels = Vec::new();
        while !current.is_empty() {
            let mut next = BTreeSet::new();
            for &node in &current {
                for &dependent in &index.dependents[node] {
                    waiting[dependent] -= 1;
                    if waiting[dependent] == 0 {
                        next.insert(dependent);
                    }
                }
            }
            // Indices follow name order, so sorted indices are sorted names.
            levels.push(current.iter().map(|&i| index.names[i].to_owned()).collect());
            current = next.into_iter().collect();
        }
        Ok(levels)
    }

    /// Teardown order: `levels` reversed, so dependents stop before what they
    /// depend on.
    pub fn reverse_levels(&self) -> Result<Vec<Vec<String>>, Cycle> {
        let mut levels = self.levels()?;
        levels.reverse();
        Ok(levels)
    }

    /// The roots and everything they transitively depend on. Roots that are
    /// not nodes are ignored: callers check service names before asking.
    pub fn closure(&self, roots: &[&str]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = roots
            .iter()
            .copied()
            .filter(|r| self.deps.contains_key(*r))
            .collect();
        while let Some(node) = stack.pop() {
            if seen.insert(node.to_owned()) {
                stack.extend(self.dependencies(node).filter(|d| !seen.contains(*d)));
            }
        }
        seen
    }

    /// The first cycle met by a depth-first search that visits nodes and
    /// their dependencies in name order, rotated to start at its smallest
    /// name. `None` when the graph is acyclic.
    pub fn find_cycle(&self) -> Option<Cycle> {
        let index = Indexed::new(self);
        let count = index.names.len();
        let mut state = vec![Visit::New; count];
        // Each frame is a node on the current path and how many of its
        // dependencies have been looked at.
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..count {
            if state[root] != Visit::New {
                continue;
            }
            state[root] = Visit::OnPath;
            stack.push((root, 0));
            while let Some(frame) = stack.last_mut() {
                let (node, next) = *frame;
                let Some(&dep) = index.deps[node].get(next) else {
                    state[node] = Visit::Done;
                    stack.pop();
                    continue;
                };
                frame.1 += 1;
                match state[dep] {
                    Visit::New => {
                        state[dep] = Visit::OnPath;
                        stack.push((dep, 0));
                    }
                    Visit::OnPath => {
                        let start = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let on_cycle: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                        return Some(index.cycle(&on_cycle));
                    }
                    Visit::Done => {}
                }
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    OnPath,
    Done,
}

/// The graph with names replaced by their rank in name order, so traversals
/// work on vectors instead of repeated map look-ups.
struct Indexed<'a> {
    names: Vec<&'a str>,
    /// Sorted dependency indices per node.
    deps: Vec<Vec<usize>>,
    /// Sorted dependent indices per node.
    dependents: Vec<Vec<usize>>,
}

impl<'a> Indexed<'a> {
    fn new(graph: &'a Graph) -> Self {
        let names: Vec<&str> = graph.nodes().collect();
        let rank: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let mut deps = Vec::with_capacity(names.len());
        let mut dependents = vec![Vec::new(); names.len()];
        for (i, set) in graph.deps.values().enumerate() {
            // `add_edge` adds both ends, so every dependency has a rank.
            let ranked: Vec<usize> = set
                .iter()
                .filter_map(|d| rank.get(d.as_str()).copied())
                .collect();
            for &d in &ranked {
                dependents[d].push(i);
            }
            deps.push(ranked);
        }
        Self {
            names,
            deps,
            dependents,
        }
    }

    /// Turns the nodes of a cycle, in edge order, into a closed path that
    /// starts at the smallest name.
    fn cycle(&self, on_cycle: &[usize]) -> Cycle {
        let start = on_cycle
            .iter()
            .enumerate()
            .min_by_key(|&(_, &n)| n)
            .map_or(0, |(pos, _)| pos);
        let mut path: Vec<String> = on_cycle[start..]
            .iter()
            .chain(&on_cycle[..start])
            .map(|&n| self.names[n].to_owned())
            .collect();
        if let Some(first) = path.first().cloned() {
            path.push(first);
        }
        Cycle { path }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (from, to) in edges {
            g.add_edge(from, to);
        }
        g
    }

    fn levels_of(g: &Graph) -> Vec<Vec<String>> {
        g.levels().expect("acyclic")
    }

    fn path(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_graph_has_no_levels_and_no_cycle() {
        let g = Graph::new();
        assert_eq!(g.levels(), Ok(vec![]));
        assert_eq!(g.reverse_levels(), Ok(vec![]));
        assert_eq!(g.find_cycle(), None);
        assert_eq!(g.nodes().count(), 0);
    }

    #[test]
    fn add_edge_adds_both_nodes_and_add_node_is_idempotent() {
        let mut g = graph(&[("web", "db")]);
        g.add_node("web");
        g.add_node("cache");
        assert_eq!(g.nodes().collect::<Vec<_>>(), ["cache", "db", "web"]);
        assert_eq!(g.dependencies("web").collect::<Vec<_>>(), ["db"]);
    }

    #[test]
    fn repeated_edges_count_once() {
        let g = graph(&[("web", "db"), ("web", "db")]);
        assert_eq!(g.dependencies("web").count(), 1);
        assert_eq!(levels_of(&g), vec![vec!["db"], vec!["web"]]);
    }

    #[test]
    fn dependencies_and_dependents_are_sorted_and_empty_for_unknown_nodes() {
        let g = graph(&[("web", "db"), ("web", "cache"), ("worker", "db")]);
        assert_eq!(g.dependencies("web").collect::<Vec<_>>(), ["cache", "db"]);
        assert_eq!(g.dependents("db"), ["web", "worker"]);
        assert_eq!(g.dependencies("nope").count(), 0);
        assert!(g.dependents("nope").is_empty());
    }

    #[test]
    fn levels_put_dependencies_first_and_sort_each_level() {
        let g = graph(&[
            ("web", "api"),
            ("api", "db"),
            ("api", "cache"),
            ("worker", "db"),
        ]);
        assert_eq!(
            levels_of(&g),
            vec![vec!["cache", "db"], vec!["api", "worker"], vec!["web"]]
        );
    }

    #[test]
    fn node_waits_for_its_deepest_dependency() {
        // web depends on db directly and through api: it goes after api.
        let g = graph(&[("web", "db"), ("web", "api"), ("api", "db")]);
        assert_eq!(levels_of(&g), vec![vec!["db"], vec!["api"], vec!["web"]]);
    }

    #[test]
    fn isolated_nodes_are_in_level_zero() {
        let mut g = graph(&[("b", "a")]);
        g.add_node("z");
        assert_eq!(levels_of(&g), vec![vec!["a", "z"], vec!["b"]]);
    }

    #[test]
    fn reverse_levels_stop_dependents_first() {
        let g = graph(&[("web", "api"), ("api", "db")]);
        assert_eq!(
            g.reverse_levels(),
            Ok(vec![path(&["web"]), path(&["api"]), path(&["db"])])
        );
    }

    #[test]
    fn closure_includes_roots_and_transitive_dependencies_only() {
        let g = graph(&[
            ("web", "api"),
            ("api", "db"),
            ("worker", "queue"),
            ("admin", "web"),
        ]);
        let c = g.closure(&["web"]);
        assert_eq!(
            c.iter().map(String::as_str).collect::<Vec<_>>(),
            ["api", "db", "web"]
        );
        let c = g.closure(&["web", "worker"]);
        assert_eq!(c.len(), 5);
        assert!(!c.contains("admin"));
    }

    #[test]
    fn closure_ignores_unknown_roots_and_terminates_on_cycles() {
        let g = graph(&[("a", "b"), ("b", "a")]);
        assert!(g.closure(&["missing"]).is_empty());
        assert_eq!(g.closure(&["a"]).len(), 2);
    }

    #[test]
    fn cycle_starts_and_ends_at_smallest_name() {
        let g = graph(&[("b", "c"), ("c", "a"), ("a", "b")]);
        let cycle = g.find_cycle().expect("cyclic");
        assert_eq!(cycle.path, path(&["a", "b", "c", "a"]));
        assert_eq!(g.levels(), Err(cycle.clone()));
        assert_eq!(g.reverse_levels(), Err(cycle));
    }

    #[test]
    fn cycle_is_rotated_when_search_enters_it_elsewhere() {
        // The search starts at "a", which is only on the way into the cycle.
        let g = graph(&[("a", "y"), ("y", "z"), ("z", "x"), ("x", "y")]);
        assert_eq!(
            g.find_cycle().map(|c| c.path),
            Some(path(&["x", "y", "z", "x"]))
        );
    }

    #[test]
    fn self_dependency_is_a_two_element_cycle() {
        let g = graph(&[("web", "db"), ("db", "db")]);
        assert_eq!(g.find_cycle().map(|c| c.path), Some(path(&["db", "db"])));
    }

    #[test]
    fn cycle_message_joins_the_path_with_arrows() {
        let g = graph(&[("a", "b"), ("b", "a")]);
        assert_eq!(
            g.levels().unwrap_err().to_string(),
            "dependency cycle: a -> b -> a"
        );
    }

    #[test]
    fn cycle_report_does_not_depend_on_insertion_order() {
        let edges = [("a", "b"), ("b", "a"), ("c", "d"), ("d", "c"), ("e", "a")];
        let forward = graph(&edges);
        let mut reversed_edges = edges;
        reversed_edges.reverse();
        let backward = graph(&reversed_edges);
        assert_eq!(forward, backward);
        assert_eq!(forward.find_cycle(), backward.find_cycle());
        assert_eq!(
            forward.find_cycle().map(|c| c.path),
            Some(path(&["a", "b", "a"]))
        );
    }

    fn chain(len: usize) -> (Graph, Vec<String>) {
        let names: Vec<String> = (0..len).map(|i| format!("n{i:05}")).collect();
        let mut g = Graph::new();
        for pair in names.windows(2) {
            g.add_edge(&pair[1], &pair[0]);
        }
        (g, names)
    }

    #[test]
    fn long_chain_does_not_overflow_the_stack() {
        let (g, names) = chain(10_000);
        let levels = g.levels().expect("acyclic");
        assert_eq!(levels.len(), 10_000);
        assert_eq!(levels[0], [names[0].clone()]);
        assert_eq!(g.reverse_levels().map(|l| l.len()), Ok(10_000));
        assert_eq!(g.closure(&[names[9_999].as_str()]).len(), 10_000);
        assert_eq!(g.find_cycle(), None);
    }

    #[test]
    fn long_cycle_is_reported_in_full() {
        let (mut g, names) = chain(10_000);
        g.add_edge(&names[0], &names[9_999]);
        let cycle = g.find_cycle().expect("cyclic");
        assert_eq!(cycle.path.len(), 10_001);
        assert_eq!(cycle.path[0], names[0]);
        assert_eq!(cycle.path[1], names[9_999]);
        assert_eq!(cycle.path[10_000], names[0]);
    }

    // --- properties

    /// Up to 30 nodes and edges that only point from a higher index to a
    /// lower one, so the graph is acyclic.
    fn dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
        (1_usize..30).prop_flat_map(|n| {
            let pairs = prop::collection::vec((0..n, 0..n), 0..60);
            let edges = pairs.prop_map(|pairs| {
                pairs
                    .into_iter()
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| (a.max(b), a.min(b)))
                    .collect()
            });
            (Just(n), edges)
        })
    }

    fn name(i: usize) -> String {
        // Names whose order differs from index order, to catch index mix-ups.
        format!("s{}", (i * 7) % 31)
    }

    fn build(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut g = Graph::new();
        for i in 0..n {
            g.add_node(&name(i));
        }
        for &(a, b) in edges {
            g.add_edge(&name(a), &name(b));
        }
        g
    }

    proptest! {
        #[test]
        fn prop_dag_edges_point_to_earlier_levels((n, edges) in dag()) {
            let g = build(n, &edges);
            let levels = g.levels().expect("acyclic");
            let level_of: BTreeMap<&str, usize> = levels
                .iter()
                .enumerate()
                .flat_map(|(i, l)| l.iter().map(move |s| (s.as_str(), i)))
                .collect();
            prop_assert_eq!(level_of.len(), n);
            for &(a, b) in &edges {
                prop_assert!(level_of[name(a).as_str()] > level_of[name(b).as_str()]);
            }
            for (i, level) in levels.iter().enumerate() {
                prop_assert!(level.windows(2).all(|w| w[0] < w[1]));
                // Kahn levels are as early as possible.
                for node in level {
                    let deepest = g.dependencies(node).map(|d| level_of[d] + 1).max().unwrap_or(0);
                    prop_assert_eq!(deepest, i);
                }
            }
            let mut reversed = levels.clone();
            reversed.reverse();
            prop_assert_eq!(g.reverse_levels(), Ok(reversed));
        }

        #[test]
        fn prop_levels_are_stable_under_shuffled_insertion(
            (n, edges, order) in dag().prop_flat_map(|(n, edges)| {
                let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
                (Just(n), Just(edges.clone()).prop_shuffle(), order)
            })
        ) {
            let reference = build(n, &edges);
            let mut shuffled = Graph::new();
            for &i in &order {
                shuffled.add_node(&name(i));
            }
            for &(a, b) in edges.iter().rev() {
                shuffled.add_edge(&name(a), &name(b));
            }
            prop_assert_eq!(reference.levels(), shuffled.levels());
            prop_assert_eq!(reference.find_cycle(), None);
        }

        #[test]
        fn prop_back_edge_is_reported_as_a_real_cycle(
            (n, edges) in dag(),
            pick in any::<prop::sample::Index>(),
            extra in any::<prop::sample::Index>(),
        ) {
            // Force a path hi -> lo, then close it with the back edge lo -> hi.
            let lo = extra.index(n);
            let hi = (lo + 1 + pick.index(n)).min(n - 1).max(lo);
            let mut g = build(n, &edges);
            g.add_edge(&name(hi), &name(lo));
            g.add_edge(&name(lo), &name(hi));
            let cycle = g.find_cycle().expect("back edge closes a cycle");
            prop_assert_eq!(g.levels(), Err(cycle.clone()));
            let p = &cycle.path;
            prop_assert!(p.len() >= 2);
            prop_assert_eq!(p.first(), p.last());
            for pair in p.windows(2) {
                prop_assert!(
                    g.dependencies(&pair[0]).any(|d| d == pair[1]),
                    "{} -> {} is not an edge", pair[0], pair[1]
                );
            }
            let inner = &p[..p.len() - 1];
            prop_assert!(inner.iter().all(|s| *s >= p[0]));
            prop_assert_eq!(inner.iter().collect::<BTreeSet<_>>().len(), inner.len());
        }

        #[test]
        fn prop_cycle_found_exactly_when_back_edge_closes_a_path(
            (n, edges) in dag(),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let (a, b) = (a.index(n), b.index(n));
            let (lo, hi) = (a.min(b), a.max(b));
            let mut g = build(n, &edges);
            g.add_edge(&name(lo), &name(hi));
            let closes = lo == hi || g.closure(&[name(hi).as_str()]).contains(&name(lo));
            prop_assert_eq!(g.find_cycle().is_some(), closes);
            prop_assert_eq!(g.levels().is_err(), closes);
        }
    }
}
