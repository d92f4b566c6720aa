/** Read-only summaries of a model, as {@code compress inspect} prints them. */
package dev.compress.api.inspect;
