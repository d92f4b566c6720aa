/**
 * The {@code compress} command line front end (picocli). It holds no compression logic: it turns
 * arguments into calls on the API.
 */
package dev.compress.cli;
