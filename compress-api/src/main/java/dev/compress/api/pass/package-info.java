/**
 * The pass SPI: a pass is an immutable, validated {@link dev.compress.api.pass.PassConfig} record
 * plus a {@link dev.compress.api.pass.Pass} that applies it, registered by a {@link
 * dev.compress.api.pass.PassProvider} found through {@link java.util.ServiceLoader}. Layer
 * selection ({@code targets}/{@code ignore}) is shared: {@link
 * dev.compress.api.pass.LayerSelection}. Each key is declared once: its help text as {@link
 * dev.compress.api.pass.Param} on the record component, its default in the config's {@code
 * defaults()}; config builders extend {@link dev.compress.api.pass.RecordBuilder} or {@link
 * dev.compress.api.pass.SelectionBuilder} and validate through the record's constructor.
 */
package dev.compress.api.pass;
