/**
 * Will hold the quantization passes: RTN, static/dynamic PTQ, SmoothQuant, GPTQ, AWQ, FP8 and QAT,
 * with their packed storage formats, a package per algorithm.
 */
package dev.compress.quantization;
