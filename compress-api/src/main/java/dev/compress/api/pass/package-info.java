/**
 * The pass SPI: a pass is an immutable, validated {@link dev.compress.api.pass.PassConfig} record
 * plus a {@link dev.compress.api.pass.Pass} that applies it, registered by a {@link
 * dev.compress.api.pass.PassProvider} found through {@link java.util.ServiceLoader}. Layer
 * selection ({@code targets}/{@code ignore}) is shared: {@link
 * dev.compress.api.pass.LayerSelection}.
 */
package dev.compress.api.pass;
