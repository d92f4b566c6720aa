/**
 * The training loop ({@link dev.compress.training.loop.Trainer}): gradient accumulation, explicit
 * gradient zeroing, global-norm clipping, warmup and decay, seeded shuffling, periodic validation
 * with best-checkpoint selection and early stop, resumable atomic checkpoints, a stop naming the
 * step on a non-finite loss, and progress through the api's {@link
 * dev.compress.api.pass.ProgressListener}.
 */
package dev.compress.training.loop;
