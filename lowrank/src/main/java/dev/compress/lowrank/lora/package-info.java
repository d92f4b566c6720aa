/**
 * The adapter passes. {@code lora}: low-rank adapters (Hu et al. 2021) inserted as ordinary graph
 * nodes, trained against the teacher with the training module's teacher-student run, then merged
 * into the base weights or kept (and written in the PEFT layout by {@link
 * dev.compress.lowrank.lora.PeftAdapters}). {@code adalora} ({@link
 * dev.compress.lowrank.lora.AdaLoraPass}): {@code P Λ Q} adapters whose ranks a falling global
 * budget allocates by importance. {@code dylora} ({@link dev.compress.lowrank.lora.DyLoraPass}):
 * adapters trained at a sampled rank per update, usable at every rank. {@code lora-merge} ({@link
 * dev.compress.lowrank.lora.LoraMergePass}): a PEFT adapter folder merged into the model. The
 * training runs share {@code AdapterRun}; the per-update work goes through the trainer's {@link
 * dev.compress.training.loop.TrainingHook}.
 */
package dev.compress.lowrank.lora;
