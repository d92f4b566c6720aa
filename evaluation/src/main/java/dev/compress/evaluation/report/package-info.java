/** Reports of a bench run: JSON for machines, a self-contained HTML page with SVG charts. */
package dev.compress.evaluation.report;
