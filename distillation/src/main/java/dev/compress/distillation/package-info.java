/**
 * Will hold teacher-student distillation: soft-target and hidden-state losses trained through DJL
 * autograd, and student builders.
 */
package dev.compress.distillation;
