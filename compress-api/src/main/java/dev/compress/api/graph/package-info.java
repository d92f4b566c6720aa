/**
 * The model graph with ONNX semantics: {@link dev.compress.api.graph.ModelGraph} (a model), {@link
 * dev.compress.api.graph.Graph} (nodes, initializers, inputs and outputs), {@link
 * dev.compress.api.graph.Node}, {@link dev.compress.api.graph.Attribute} and {@link
 * dev.compress.api.graph.ValueInfo}. What the toolkit does not model is carried as {@link
 * dev.compress.api.graph.PreservedFields} so nothing is lost on a round trip. {@link
 * dev.compress.api.graph.GraphCheck} holds the structural rules (every input defined, outputs
 * produced, single assignment, no cycle) that readers and writers enforce; {@link
 * dev.compress.api.graph.OpsetCheck} the per-operator rules (the operator exists at the imported
 * opset, its attributes and input count fit that version), which writers enforce and readers note.
 *
 * <p>Editing: {@link dev.compress.api.graph.GraphIndex} answers def-use questions (producer,
 * consumers, constants, observability); {@link dev.compress.api.graph.GraphEditor} changes a graph
 * and keeps its index current (fresh unique names, copy-on-share of constants, insert/rewire,
 * removal of what nothing reads, extraction of the subgraph between values). Passes edit through
 * them instead of keeping private indexes and name generators; {@link
 * dev.compress.api.graph.OpsetUpgrade} raises a model's opset. {@link
 * dev.compress.api.graph.GraphBuilder} builds a model in code (tests, checkpoint importers) with
 * the editor's names and checks it.
 */
package dev.compress.api.graph;
