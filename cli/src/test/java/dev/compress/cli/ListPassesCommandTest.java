package dev.compress.cli;

import static dev.compress.cli.InspectCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.compress.api.pass.PassProvider;
import dev.compress.api.pipeline.PassRegistry;
import dev.compress.cli.InspectCommandTest.Result;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListPassesCommandTest {
  @Test
  void eachDefaultIsShownOnceWithTheValueType() {
    Result r = run("list-passes");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("bits           integer (default: 8)")
        .contains("granularity    per_channel | per_group (default: per_channel)")
        .contains("sparsity  number (default: 0.5)")
        .contains("symmetric      true | false (default: true)");
    for (String line : r.out().lines().toList()) {
      assertThat(line).as("a default written twice").doesNotContainPattern("default.*default");
      assertThat(line).doesNotContain("(default ").doesNotContain("; default");
    }
  }

  @Test
  void enumValuesAreLowerCaseAsPipelinesWriteThem() {
    Result r = run("list-passes");
    assertThat(r.out()).doesNotContain("PER_CHANNEL", "PER_GROUP", "PER_LAYER", "E4M3FN (");
  }

  @Test
  void linesFitOneHundredColumns() {
    Result r = run("list-passes");
    assertThat(r.out().lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(100));
  }

  @Test
  void everyConfigComponentIsListed() throws Exception {
    Result r = run("list-passes", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode d = new ObjectMapper().readTree(r.out());
    assertThat(d.get("schema").asText()).isEqualTo("compress/list-passes/v1");
    JsonNode rtn = null;
    for (JsonNode p : d.get("passes")) {
      if (p.get("type").asText().equals("rtn-quantization")) {
        rtn = p;
      }
    }
    assertThat(rtn).isNotNull();
    assertThat(rtn.get("needsCalibration").asBoolean()).isFalse();
    List<String> names = new ArrayList<>();
    rtn.get("keys").forEach(k -> names.add(k.get("name").asText()));
    assertThat(names)
        .containsExactly(
            "targets",
            "ignore",
            "bits",
            "granularity",
            "groupSize",
            "symmetric",
            "embeddings",
            "clip",
            "accuracyLevel");
    JsonNode bits = rtn.get("keys").get(2);
    assertThat(bits.get("type").asText()).isEqualTo("integer");
    assertThat(bits.get("default").isInt()).isTrue();
    assertThat(bits.get("default").asInt()).isEqualTo(8);
    assertThat(rtn.get("keys").get(3).get("default").asText()).isEqualTo("per_channel");
    assertThat(rtn.get("keys").get(0).get("default").isNull()).isTrue(); // targets: all layers
  }

  @Test
  void everyKeyOfEveryPassHasHelpTextAndTheDefaultOfDefaults() throws Exception {
    Result r = run("list-passes", "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode d = new ObjectMapper().readTree(r.out());
    PassRegistry registry = PassRegistry.load();
    assertThat(d.get("passes")).hasSize(registry.all().size()).hasSizeGreaterThanOrEqualTo(16);
    for (JsonNode p : d.get("passes")) {
      String type = p.get("type").asText();
      PassProvider<?> provider = registry.find(type).orElseThrow();
      Record defaults = (Record) provider.defaults();
      for (JsonNode k : p.get("keys")) {
        String name = k.get("name").asText();
        assertThat(k.get("description").asText()).as(type + "." + name + " help").isNotBlank();
        if (name.equals("targets") || name.equals("ignore")) {
          continue;
        }
        Object expected = null;
        for (RecordComponent c : defaults.getClass().getRecordComponents()) {
          if (c.getName().equals(name)) {
            expected = ListPassesCommand.plain(c.getAccessor().invoke(defaults));
          }
        }
        Object shown = new ObjectMapper().convertValue(k.get("default"), Object.class);
        if (expected instanceof Number n && shown instanceof Number m) {
          assertThat(m.doubleValue()).as(type + "." + name).isEqualTo(n.doubleValue());
        } else {
          assertThat(shown).as(type + "." + name + " default").isEqualTo(expected);
        }
      }
    }
  }
}
