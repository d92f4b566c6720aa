package dev.compress.api.io.onnx;

import java.util.HashMap;
import java.util.Map;

/**
 * Field numbers of the ONNX protobuf messages this package reads and writes, and their names for
 * error messages. Only the numbers are taken from {@code onnx.proto}; nothing is generated.
 */
final class OnnxSchema {
  private OnnxSchema() {}

  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;

  /** ModelProto. */
  static final class Model {
    static final int IR_VERSION = 1;
    static final int PRODUCER_NAME = 2;
    static final int PRODUCER_VERSION = 3;
    static final int DOMAIN = 4;
    static final int MODEL_VERSION = 5;
    static final int DOC_STRING = 6;
    static final int GRAPH = 7;
    static final int OPSET_IMPORT = 8;
    static final int METADATA_PROPS = 14;
  }

  /** OperatorSetIdProto. */
  static final class Opset {
    static final int DOMAIN = 1;
    static final int VERSION = 2;
  }

  /** StringStringEntryProto. */
  static final class Entry {
    static final int KEY = 1;
    static final int VALUE = 2;
  }

  /** GraphProto. */
  static final class GraphF {
    static final int NODE = 1;
    static final int NAME = 2;
    static final int INITIALIZER = 5;
    static final int DOC_STRING = 10;
    static final int INPUT = 11;
    static final int OUTPUT = 12;
    static final int VALUE_INFO = 13;
    static final int METADATA_PROPS = 16;
  }

  /** NodeProto. */
  static final class NodeF {
    static final int INPUT = 1;
    static final int OUTPUT = 2;
    static final int NAME = 3;
    static final int OP_TYPE = 4;
    static final int ATTRIBUTE = 5;
    static final int DOC_STRING = 6;
    static final int DOMAIN = 7;
    static final int OVERLOAD = 8;
    static final int METADATA_PROPS = 9;
  }

  /** AttributeProto. */
  static final class AttrF {
    static final int NAME = 1;
    static final int F = 2;
    static final int I = 3;
    static final int S = 4;
    static final int T = 5;
    static final int G = 6;
    static final int FLOATS = 7;
    static final int INTS = 8;
    static final int STRINGS = 9;
    static final int TENSORS = 10;
    static final int GRAPHS = 11;
    static final int DOC_STRING = 13;
    static final int TYPE = 20;
    static final int REF_ATTR_NAME = 21;
  }

  /** ValueInfoProto. */
  static final class ValueInfoF {
    static final int NAME = 1;
    static final int TYPE = 2;
    static final int DOC_STRING = 3;
    static final int METADATA_PROPS = 4;
  }

  /** TypeProto, TypeProto.Tensor, TensorShapeProto and its Dimension. */
  static final class TypeF {
    static final int TENSOR_TYPE = 1;
    static final int ELEM_TYPE = 1;
    static final int SHAPE = 2;
    static final int DIM = 1;
    static final int DIM_VALUE = 1;
    static final int DIM_PARAM = 2;
  }

  /** TensorProto. */
  static final class TensorF {
    static final int DIMS = 1;
    static final int DATA_TYPE = 2;
    static final int FLOAT_DATA = 4;
    static final int INT32_DATA = 5;
    static final int STRING_DATA = 6;
    static final int INT64_DATA = 7;
    static final int NAME = 8;
    static final int RAW_DATA = 9;
    static final int DOUBLE_DATA = 10;
    static final int UINT64_DATA = 11;
    static final int DOC_STRING = 12;
    static final int EXTERNAL_DATA = 13;
    static final int DATA_LOCATION = 14;
    static final int LOCATION_EXTERNAL = 1;
  }

  /** The message kinds, with field names for error paths. */
  enum Kind {
    MODEL(
        "1 ir_version 2 producer_name 3 producer_version 4 domain 5 model_version 6 doc_string"
            + " 7 graph 8 opset_import 14 metadata_props 20 training_info 25 functions"),
    OPSET("1 domain 2 version"),
    ENTRY("1 key 2 value"),
    GRAPH(
        "1 node 2 name 5 initializer 10 doc_string 11 input 12 output 13 value_info"
            + " 14 quantization_annotation 15 sparse_initializer 16 metadata_props"),
    NODE(
        "1 input 2 output 3 name 4 op_type 5 attribute 6 doc_string 7 domain 8 overload"
            + " 9 metadata_props"),
    ATTRIBUTE(
        "1 name 2 f 3 i 4 s 5 t 6 g 7 floats 8 ints 9 strings 10 tensors 11 graphs 13 doc_string"
            + " 14 tp 15 type_protos 20 type 21 ref_attr_name 22 sparse_tensor 23 sparse_tensors"),
    VALUE_INFO("1 name 2 type 3 doc_string 4 metadata_props"),
    TYPE(
        "1 tensor_type 4 sequence_type 5 map_type 6 denotation 8 sparse_tensor_type"
            + " 9 optional_type"),
    TENSOR_TYPE("1 elem_type 2 shape"),
    SHAPE("1 dim"),
    DIM("1 dim_value 2 dim_param 3 denotation"),
    TENSOR(
        "1 dims 2 data_type 3 segment 4 float_data 5 int32_data 6 string_data 7 int64_data 8 name"
            + " 9 raw_data 10 double_data 11 uint64_data 12 doc_string 13 external_data"
            + " 14 data_location 16 metadata_props");

    private final Map<Integer, String> names = new HashMap<>();

    Kind(String table) {
      String[] t = table.split(" ");
      for (int i = 0; i < t.length; i += 2) {
        names.put(Integer.parseInt(t[i]), t[i + 1]);
      }
    }

    /** The field's name, or {@code #N} for a field this package does not know. */
    String fieldName(int number) {
      String n = names.get(number);
      return n != null ? n : "#" + number;
    }
  }
}
