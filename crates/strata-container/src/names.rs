//! Docker-style random container names: `adjective_surname`, with a digit
//! appended when the plain name is taken.

const LEFT: [&str; 24] = [
    "admiring",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "festive",
    "gifted",
    "happy",
    "inspiring",
    "jolly",
    "keen",
    "loving",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
    "zealous",
];

const RIGHT: [&str; 24] = [
    "babbage",
    "curie",
    "darwin",
    "euler",
    "fermi",
    "galileo",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "lovelace",
    "meitner",
    "newton",
    "noether",
    "pasteur",
    "ritchie",
    "shannon",
    "thompson",
    "torvalds",
    "turing",
    "villani",
    "wozniak",
    "yalow",
    "zhukovsky",
];

/// A random name for which `taken` is false.
pub(crate) fn generate(taken: &dyn Fn(&str) -> bool) -> String {
    for attempt in 0..64 {
        let l = LEFT[rand::random_range(0..LEFT.len())];
        let r = RIGHT[rand::random_range(0..RIGHT.len())];
        let name = match attempt {
            0..8 => format!("{l}_{r}"),
            _ => format!("{l}_{r}{}", rand::random_range(0..10)),
        };
        if !taken(&name) {
            return name;
        }
    }
    format!("strata_{:08x}", rand::random::<u32>())
}
