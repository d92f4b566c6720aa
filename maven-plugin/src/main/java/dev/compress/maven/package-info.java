/**
 * Will hold the Maven plugin goals {@code compress} and {@code evaluate} (a quality gate in
 * builds), a thin front end over the same pipeline runner as the CLI (issue 6).
 */
package dev.compress.maven;
