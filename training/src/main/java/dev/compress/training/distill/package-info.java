/**
 * Teacher-student training shared by every pass that trains against a frozen teacher: the
 * distillation losses ({@link dev.compress.training.distill.DistillationLosses}), the loss terms a
 * pipeline writes ({@link dev.compress.training.distill.LossTerm}) resolved against both models
 * ({@link dev.compress.training.distill.LossPlan}), and the run itself ({@link
 * dev.compress.training.distill.TeacherStudent}): teacher values computed once per example, a
 * seeded train/held-out split, the {@link dev.compress.training.loop.Trainer}, and the trained
 * initializers written back. Used by {@code distill}; adapters (LoRA) and quantization-aware
 * training reuse it with their own parameter selection.
 */
package dev.compress.training.distill;
