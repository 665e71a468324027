package dev.gantry.store.repository;

/** Splits protobuf text format into identifiers, numbers, strings and punctuation, tracking line and column. */
final class PbtxtTokenizer {

    enum Kind { IDENTIFIER, NUMBER, STRING, PUNCTUATION, END }

    record Token(Kind kind, String text, int line, int column) {
        boolean is(String punctuation) {
            return kind == Kind.PUNCTUATION && text.equals(punctuation);
        }

        String describe() {
            return switch (kind) {
                case END -> "the end of the file";
                case STRING -> "string \"" + text + "\"";
                default -> "'" + text + "'";
            };
        }
    }

    private static final String PUNCTUATION = "{}[]<>:,;-";

    private final String source;
    private final String text;
    private int position;
    private int line = 1;
    private int column = 1;
    private Token lookahead;

    PbtxtTokenizer(String source, String text) {
        this.source = source;
        this.text = text;
    }

    Token peek() throws ModelConfigException {
        if (lookahead == null) {
            lookahead = read();
        }
        return lookahead;
    }

    Token next() throws ModelConfigException {
        Token token = peek();
        lookahead = null;
        return token;
    }

    private Token read() throws ModelConfigException {
        skipSpaceAndComments();
        int startLine = line;
        int startColumn = column;
        if (position >= text.length()) {
            return new Token(Kind.END, "", startLine, startColumn);
        }
        char c = text.charAt(position);
        if (c == '"' || c == '\'') {
            return new Token(Kind.STRING, quoted(c, startLine, startColumn), startLine, startColumn);
        }
        if (Character.isDigit(c) || (c == '.' && position + 1 < text.length()
                && Character.isDigit(text.charAt(position + 1)))) {
            return new Token(Kind.NUMBER, take(PbtxtTokenizer::isNumberPart), startLine, startColumn);
        }
        if (Character.isLetter(c) || c == '_') {
            return new Token(Kind.IDENTIFIER, take(PbtxtTokenizer::isIdentifierPart), startLine, startColumn);
        }
        if (PUNCTUATION.indexOf(c) >= 0) {
            advance();
            return new Token(Kind.PUNCTUATION, String.valueOf(c), startLine, startColumn);
        }
        throw error(startLine, startColumn, "unexpected character '" + c + "'");
    }

    private void skipSpaceAndComments() {
        while (position < text.length()) {
            char c = text.charAt(position);
            if (c == '#') {
                while (position < text.length() && text.charAt(position) != '\n') {
                    advance();
                }
            } else if (Character.isWhitespace(c)) {
                advance();
            } else {
                return;
            }
        }
    }

    private String take(CharPredicate part) {
        int start = position;
        while (position < text.length() && part.test(text.charAt(position))) {
            advance();
        }
        return text.substring(start, position);
    }

    private String quoted(char quote, int startLine, int startColumn) throws ModelConfigException {
        advance();
        StringBuilder value = new StringBuilder();
        while (true) {
            if (position >= text.length() || text.charAt(position) == '\n') {
                throw error(startLine, startColumn, "unterminated string");
            }
            char c = text.charAt(position);
            advance();
            if (c == quote) {
                return value.toString();
            }
            if (c != '\\') {
                value.append(c);
                continue;
            }
            if (position >= text.length()) {
                throw error(startLine, startColumn, "unterminated string");
            }
            int escapeLine = line;
            int escapeColumn = column - 1;
            char escaped = text.charAt(position);
            advance();
            switch (escaped) {
                case 'n' -> value.append('\n');
                case 't' -> value.append('\t');
                case 'r' -> value.append('\r');
                case 'a' -> value.append('\u0007');
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'v' -> value.append('\u000B');
                case '\\', '\'', '"', '?' -> value.append(escaped);
                case 'x', 'X' -> value.append((char) digits(16, 2, escapeLine, escapeColumn));
                default -> {
                    if (escaped >= '0' && escaped <= '7') {
                        position--;
                        column--;
                        value.append((char) digits(8, 3, escapeLine, escapeColumn));
                    } else {
                        throw error(escapeLine, escapeColumn, "unknown escape '\\" + escaped + "' in string");
                    }
                }
            }
        }
    }

    private int digits(int radix, int max, int escapeLine, int escapeColumn) throws ModelConfigException {
        int value = 0;
        int count = 0;
        while (count < max && position < text.length() && Character.digit(text.charAt(position), radix) >= 0) {
            value = value * radix + Character.digit(text.charAt(position), radix);
            advance();
            count++;
        }
        if (count == 0) {
            throw error(escapeLine, escapeColumn, "escape without digits in string");
        }
        return value;
    }

    private void advance() {
        if (text.charAt(position) == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        position++;
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    private static boolean isNumberPart(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '+' || c == '-';
    }

    private ModelConfigException error(int atLine, int atColumn, String message) {
        return new ModelConfigException(source + ": line " + atLine + ", column " + atColumn + ": " + message);
    }

    @FunctionalInterface
    private interface CharPredicate {
        boolean test(char c);
    }
}
