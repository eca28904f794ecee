// Nothing of its own: building this crate builds rand, regex and md5 as rlibs for pass@k.
pub use md5;
pub use rand;
pub use regex;
