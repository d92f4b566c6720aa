/**
 * The {@code layer-drop} student builder: keeps chosen transformer blocks of a model and cuts the
 * others out of the residual stream, physically (nodes and weights leave the file).
 */
package dev.compress.distillation.layerdrop;
