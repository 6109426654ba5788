package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The opcodes Python's pickle writes (protocol 2, and the data-only ones of 3 to 5), decoded to Java values. */
class PickleReaderTest {
    static Object read(byte[] b, Set<String> allowed) {
        PickleReader.Hooks hooks = new PickleReader.Hooks() {
            @Override
            public Object persistentLoad(Object pid) {
                return "pid:" + pid;
            }

            @Override
            public Object call(PickleReader.Global fn, PickleReader.Tuple args) {
                return fn.qualifiedName() + args.items();
            }
        };
        return new PickleReader(new ByteArrayInputStream(b), b.length, "test.pkl", allowed, hooks).read();
    }

    @Test
    void valuesOfProtocol2() {
        // {'a': [1, -2, 70000, 3.5, True, False, None], 'b': (b'xy', 'é'), 'big': 2**70, (1, 'k'): {}}
        Pickles p = new Pickles().proto(2).emptyDict().op('q').op(0).mark();
        p.str("a")
                .op(']')
                .mark()
                .integer(1)
                .op('J')
                .raw(Pickles.le(-2, 4))
                .integer(70000)
                .op('G')
                .raw(ByteBuffer.allocate(8).putDouble(3.5).array())
                .op(0x88)
                .op(0x89)
                .none()
                .op('e');
        p.str("b")
                .op('C')
                .op(2)
                .raw("xy".getBytes(StandardCharsets.US_ASCII))
                .str("é")
                .op(0x86);
        byte[] big = BigInteger.TWO.pow(70).toByteArray();
        byte[] le = new byte[big.length];
        for (int i = 0; i < big.length; i++) {
            le[i] = big[big.length - 1 - i];
        }
        p.str("big").op(0x8a).op(le.length).raw(le);
        p.integer(1).str("k").op(0x86).emptyDict();
        p.setitems().stop();
        Map<?, ?> m = (Map<?, ?>) read(p.bytes(), Set.of());
        assertEquals(List.of(1L, -2L, 70000L, 3.5, true, false), ((List<?>) m.get("a")).subList(0, 6));
        assertNull(((List<?>) m.get("a")).get(6));
        PickleReader.Tuple t = (PickleReader.Tuple) m.get("b");
        assertArrayEquals("xy".getBytes(StandardCharsets.US_ASCII), (byte[]) t.get(0));
        assertEquals("é", t.get(1));
        assertEquals(BigInteger.TWO.pow(70), m.get("big"));
        assertEquals(Map.of(), m.get(new PickleReader.Tuple(List.of(1L, "k"))));
    }

    @Test
    void memoSharingGlobalsCallsAndPersistentIds() {
        // x = [ ]; (x, x) shares one list via BINPUT/BINGET; allowed global called; persistent id
        Pickles p = new Pickles().proto(2).mark();
        p.op(']').op('q').op(1).op('h').op(1);
        p.global("collections", "OrderedDict").emptyTuple().reduce();
        p.mark().str("storage").str("0").tuple().op('Q');
        p.tuple().stop();
        PickleReader.Tuple t = (PickleReader.Tuple) read(p.bytes(), Set.of("collections.OrderedDict"));
        assertSame(t.get(0), t.get(1));
        assertEquals("collections.OrderedDict[]", t.get(2));
        assertEquals(
                "pid:(storage, 0)".replace("(storage, 0)", new PickleReader.Tuple(List.of("storage", "0")).toString()),
                t.get(3));
    }

    @Test
    void aGlobalOffTheListIsRefusedNamingIt() {
        byte[] b = new Pickles().proto(2).global("subprocess", "Popen").stop().bytes();
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> read(b, Set.of("collections.OrderedDict")));
        assertTrue(e.getMessage().startsWith("test.pkl: refused pickle global 'subprocess Popen'"), e.getMessage());
        assertTrue(e.getMessage().contains("at byte 2"), e.getMessage());
    }

    @Test
    void describeIsBounded() {
        List<Object> l = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            l.add(List.of("x".repeat(100)));
        }
        assertTrue(PickleReader.describe(l, 3).length() <= 200);
        assertEquals("list", PickleReader.typeName(l));
    }
}
