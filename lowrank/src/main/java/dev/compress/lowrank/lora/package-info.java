/**
 * The {@code lora} pass: low-rank adapters (Hu et al. 2021) inserted as ordinary graph nodes,
 * trained against the teacher with the training module's teacher-student run, then merged into the
 * base weights or kept (and written in the PEFT layout by {@link
 * dev.compress.lowrank.lora.PeftAdapters}).
 */
package dev.compress.lowrank.lora;
