package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GoogLeNetParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"tv__googlenet"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
