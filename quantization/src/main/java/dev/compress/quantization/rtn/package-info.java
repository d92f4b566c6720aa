/**
 * Round-to-nearest weight quantization ({@code rtn-quantization}): {@link
 * dev.compress.quantization.rtn.RtnConfig}, {@link dev.compress.quantization.rtn.RtnPass} and its
 * provider.
 */
package dev.compress.quantization.rtn;
