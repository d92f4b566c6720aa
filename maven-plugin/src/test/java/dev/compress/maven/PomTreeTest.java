package dev.compress.maven;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.compress.api.pipeline.EvaluateSpec;
import dev.compress.api.pipeline.PassRegistry;
import java.io.StringReader;
import org.codehaus.plexus.configuration.xml.XmlPlexusConfiguration;
import org.codehaus.plexus.util.xml.Xpp3DomBuilder;
import org.junit.jupiter.api.Test;

class PomTreeTest {
  private static PomElement xml(String s) throws Exception {
    return PomElement.from(new XmlPlexusConfiguration(Xpp3DomBuilder.build(new StringReader(s))));
  }

  @Test
  void passElementsTakeTheTypesOfTheirConfigRecord() throws Exception {
    PomElement passes =
        xml(
            """
            <passes>
              <pass>
                <type>rtn-quantization</type>
                <targets><target>re:.*(MatMul|Gemm)</target></targets>
                <bits>8</bits>
                <granularity>per_channel</granularity>
                <symmetric>true</symmetric>
              </pass>
            </passes>""");
    JsonNode p = PomTree.passes(passes, PassRegistry.load()).get(0);
    assertThat(p.get("type").textValue()).isEqualTo("rtn-quantization");
    assertThat(p.get("bits").isInt()).isTrue();
    assertThat(p.get("bits").intValue()).isEqualTo(8);
    assertThat(p.get("symmetric").isBoolean()).isTrue();
    assertThat(p.get("granularity").textValue()).isEqualTo("per_channel");
    assertThat(p.get("targets").isArray()).isTrue();
    assertThat(p.get("targets").get(0).textValue()).isEqualTo("re:.*(MatMul|Gemm)");
  }

  @Test
  void valuesThatDoNotParseStayTextSoTheBinderNamesThem() throws Exception {
    JsonNode p =
        PomTree.passes(
                xml(
                    """
                    <passes><pass><type>rtn-quantization</type><bits>eight</bits>
                    <symmetric>yes</symmetric><bitz>8</bitz></pass></passes>"""),
                PassRegistry.load())
            .get(0);
    assertThat(p.get("bits").textValue()).isEqualTo("eight");
    assertThat(p.get("symmetric").textValue()).isEqualTo("yes");
    assertThat(p.get("bitz").intValue()).isEqualTo(8); // unknown key kept, number recognized
  }

  @Test
  void evaluateListsMapsAndCommaSeparatedText() throws Exception {
    JsonNode e =
        PomTree.record(
            xml(
                """
                <evaluate>
                  <data>builtin:heldout-sentences</data>
                  <samples>16</samples>
                  <latencyBatchSizes>1, 32</latencyBatchSizes>
                  <gates><cosine.mean>&gt;= 0.99</cosine.mean></gates>
                </evaluate>"""),
            EvaluateSpec.class);
    assertThat(e.get("samples").intValue()).isEqualTo(16);
    assertThat(e.get("latencyBatchSizes").size()).isEqualTo(2);
    assertThat(e.get("latencyBatchSizes").get(1).intValue()).isEqualTo(32);
    assertThat(e.get("gates").get("cosine.mean").textValue()).isEqualTo(">= 0.99");

    JsonNode children =
        PomTree.record(
            xml("<evaluate><latencyBatchSizes><size>4</size></latencyBatchSizes></evaluate>"),
            EvaluateSpec.class);
    assertThat(children.get("latencyBatchSizes").get(0).intValue()).isEqualTo(4);
  }

  @Test
  void unknownPassTypeIsKeptAsAMapping() throws Exception {
    JsonNode p =
        PomTree.passes(
                xml("<passes><pass><type>nope</type><bits>4</bits></pass></passes>"),
                PassRegistry.load())
            .get(0);
    assertThat(p.get("type").textValue()).isEqualTo("nope");
    assertThat(p.get("bits").intValue()).isEqualTo(4);
  }
}
