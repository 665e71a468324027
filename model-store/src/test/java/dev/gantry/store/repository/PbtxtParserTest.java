package dev.gantry.store.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PbtxtParserTest {
    private static final JsonMapper JSON = new JsonMapper();

    static Stream<Arguments> syntaxForms() {
        return Stream.of(
                Arguments.of("scalar field", "a: 1", "{\"a\": 1}"),
                Arguments.of("message without colon", "a { b: 2 }", "{\"a\": {\"b\": 2}}"),
                Arguments.of("message with colon", "a: { b: 2 }", "{\"a\": {\"b\": 2}}"),
                Arguments.of("angle brackets", "a < b: 2 >", "{\"a\": {\"b\": 2}}"),
                Arguments.of("list of scalars", "a: [ 1, 2, 3 ]", "{\"a\": [1, 2, 3]}"),
                Arguments.of("list without colon", "a [ 1, 2 ]", "{\"a\": [1, 2]}"),
                Arguments.of("empty list", "a: []", "{\"a\": []}"),
                Arguments.of("list of messages", "a: [ { b: 1 }, { b: 2 } ]", "{\"a\": [{\"b\": 1}, {\"b\": 2}]}"),
                Arguments.of("repetition", "a: 1\na: 2", "{\"a\": [1, 2]}"),
                Arguments.of("repetition after a list", "a: [1, 2] a: 3", "{\"a\": [1, 2, 3]}"),
                Arguments.of("separators", "a: 1, b: 2; c: 3", "{\"a\": 1, \"b\": 2, \"c\": 3}"),
                Arguments.of("enum identifier", "kind: KIND_CPU", "{\"kind\": \"KIND_CPU\"}"),
                Arguments.of("boolean", "flag: true", "{\"flag\": \"true\"}"),
                Arguments.of("negative and float numbers", "a: -1 b: 2.5 c: 1e3 d: 0.5f",
                        "{\"a\": -1, \"b\": 2.5, \"c\": 1000.0, \"d\": 0.5}"),
                Arguments.of("hex number", "a: 0x1F", "{\"a\": 31}"),
                Arguments.of("comments", "# header\na: 1 # trailing\n# b: 2", "{\"a\": 1}"),
                Arguments.of("single-quoted string", "s: 'it\\'s'", "{\"s\": \"it's\"}"),
                Arguments.of("string escapes", "s: \"a\\n\\t\\\"\\\\\\x41\\101\"", "{\"s\": \"a\\n\\t\\\"\\\\AA\"}"),
                Arguments.of("adjacent strings concatenate", "s: \"ab\" 'cd'", "{\"s\": \"abcd\"}"),
                Arguments.of("empty input", "  # nothing\n", "{}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("syntaxForms")
    void parse_syntaxForm_givesJsonShapedTree(String label, String pbtxt, String expectedJson) throws Exception {
        JsonNode expected = JSON.readTree(expectedJson);

        assertEquals(expected, PbtxtParser.parse("config.pbtxt", pbtxt));
    }

    static Stream<Arguments> malformedInputs() {
        return Stream.of(
                Arguments.of("a 1", "config.pbtxt: line 1, column 3: expected ':' or '{' after field 'a', found '1'"),
                Arguments.of("a {\n  b: 1\n", "config.pbtxt: line 3, column 1: expected '}' before the end of the file"),
                Arguments.of("a: [1 2]",
                        "config.pbtxt: line 1, column 7: expected ',' or ']' in the list opened at line 1, found '2'"),
                Arguments.of("a: \"open\nb: 1", "config.pbtxt: line 1, column 4: unterminated string"),
                Arguments.of("a: 1\n  b: $", "config.pbtxt: line 2, column 6: unexpected character '$'"),
                Arguments.of("a: }", "config.pbtxt: line 1, column 4: expected a value, found '}'"),
                Arguments.of("}", "config.pbtxt: line 1, column 1: expected a field name, found '}'"),
                Arguments.of("a: 12abc", "config.pbtxt: line 1, column 4: malformed number 12abc"),
                Arguments.of("a: 'x\\q'", "config.pbtxt: line 1, column 6: unknown escape '\\q' in string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedInputs")
    void parse_malformedInput_failsNamingLineAndColumn(String pbtxt, String message) {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> PbtxtParser.parse("config.pbtxt", pbtxt));

        assertEquals(message, e.getMessage());
    }
}
