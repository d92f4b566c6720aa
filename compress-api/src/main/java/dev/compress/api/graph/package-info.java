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
 */
package dev.compress.api.graph;
