/**
 * Teacher-student distillation: student builders that shrink the graph ({@code layerdrop}),
 * soft-target and hidden-state losses, and the {@code distill} pass that trains the student.
 */
package dev.compress.distillation;
