/** Memory of this process around a piece of work: heap pool peaks and resident native memory. */
package dev.compress.evaluation.memory;
