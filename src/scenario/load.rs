//! Loading and validating scenario files.
