//! Loading and validating the declared map.
