package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The lr suggestion names of the command line and config.json, parsed in one place. */
class LrSuggestionTest {
    @Test
    void parsesTheCommandLineNames() {
        assertEquals(LrSuggestion.VALLEY, LrSuggestion.parse("auto"));
        assertEquals(LrSuggestion.VALLEY, LrSuggestion.parse("Valley"));
        assertEquals(LrSuggestion.MINIMUM, LrSuggestion.parse("minimum"));
        assertEquals(LrSuggestion.STEEP, LrSuggestion.parse("steep"));
        assertEquals(LrSuggestion.DEFAULT, LrSuggestion.parse("default"));
        assertTrue(LrSuggestion.isName("AUTO"));
        assertFalse(LrSuggestion.isName("1e-3"));
    }

    @Test
    void anUnknownNameListsTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSuggestion.parse("lowest"));
        assertEquals("the lr suggestion must be one of default, valley, minimum, steep, got 'lowest'", e.getMessage());
    }
}
