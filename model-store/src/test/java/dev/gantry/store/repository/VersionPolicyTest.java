package dev.gantry.store.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VersionPolicyTest {

    static Stream<Arguments> selections() {
        return Stream.of(
                Arguments.of(new VersionPolicy.Latest(2), List.of(1L, 2L, 5L), List.of(2L, 5L)),
                Arguments.of(new VersionPolicy.Latest(2), List.of(5L, 1L, 2L), List.of(2L, 5L)),
                Arguments.of(new VersionPolicy.Latest(1), List.of(3L, 10L, 2L), List.of(10L)),
                Arguments.of(new VersionPolicy.Latest(4), List.of(1L, 2L), List.of(1L, 2L)),
                Arguments.of(new VersionPolicy.Latest(1), List.of(), List.of()),
                Arguments.of(new VersionPolicy.All(), List.of(5L, 1L, 2L), List.of(1L, 2L, 5L)),
                Arguments.of(new VersionPolicy.Specific(List.of(1L, 5L, 7L)), List.of(5L, 1L, 2L), List.of(1L, 5L)),
                Arguments.of(new VersionPolicy.Specific(List.of(9L)), List.of(1L, 2L), List.of()));
    }

    @ParameterizedTest(name = "{0} of {1} -> {2}")
    @MethodSource("selections")
    void select_returnsChosenVersionsAscending(VersionPolicy policy, List<Long> available, List<Long> expected) {
        assertEquals(expected, policy.select(available));
    }
}
