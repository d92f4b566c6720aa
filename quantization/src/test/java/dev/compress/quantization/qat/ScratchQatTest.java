package dev.compress.quantization.qat;

import dev.compress.api.graph.ModelGraph;
import dev.compress.api.pass.PassContext;
import dev.compress.api.pass.ProgressListener;
import dev.compress.fixtures.Calibration;
import dev.compress.fixtures.EncoderConfig;
import dev.compress.fixtures.TinyModels;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScratchQatTest {
  @Test
  void scratch() throws Exception {
    EncoderConfig enc = EncoderConfig.tiny(2, 11);
    for (String v : new String[] {"fixed", "lsq-w-only-act-fixed", "lsq", "lsq-sym"}) {
      ModelGraph fp32 = TinyModels.encoder(enc);
      QatConfig.Builder b =
          QatConfig.builder()
              .optWeights(8, 0, true)
              .optActivations(true, v.equals("lsq-sym"), "minmax")
              .optSchedule(2e-5, 20)
              .optBatchSize(8);
      if (v.equals("fixed")) b.optStepSize(StepSize.FIXED);
      try {
        var r =
            new QatPass(b.build())
                .apply(
                    fp32.copy(),
                    new PassContext(
                        7,
                        Optional.of(Calibration.encoder(enc, 8, 8, 16, 1)),
                        Optional.of(fp32),
                        ProgressListener.NONE));
        System.out.println("[scratch] " + v + " ok " + r.metrics());
      } catch (Exception e) {
        System.out.println("[scratch] " + v + " FAILED " + e.getMessage());
      }
    }
  }
}
