// verify checks matter-registry's audit log with Go's golang.org/x/mod/sumdb/note and .../tlog, so that
// the service's own code is not the only judge of its checkpoints and proofs.
//
// Build without a network, against Debian's golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o verify tests/audit/interop/verify.go
//
// Inputs are files: checkpoint notes as served at /api/v1/audit/checkpoint.txt, proofs as base64
// hashes one a line (the /api/v1/audit/proofs/... hex turned into base64), an exported event's leaf
// bytes. Witness cosignatures (C2SP tlog-cosignature, Ed25519, type 0x04) are checked here by hand
// with crypto/ed25519, as x/mod's note package knows only type 0x01. Exit status 0 means every check
// passed; each check prints one "OK" line.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL "+format+"\n", args...)
	os.Exit(1)
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
	note   *note.Note
}

// open verifies the log's note signature and parses the text as C2SP tlog-checkpoint does (x/mod's
// tlog.ParseTree expects the go.sum database's own first line, so the three lines are read here).
func open(path string, verifier note.Verifier) checkpoint {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("%s: note.Open: %v", path, err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("%s: a checkpoint has three lines", path)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		fail("%s: bad tree size %q", path, lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("%s: bad root hash %q", path, lines[2])
	}
	if lines[0] != verifier.Name() {
		fail("%s: origin %q is not the key's name %q", path, lines[0], verifier.Name())
	}
	var root tlog.Hash
	copy(root[:], raw)
	fmt.Printf("OK note.Open %s: origin %s, size %d, signed by %s\n", path, lines[0], size, n.Sigs[0].Name)
	return checkpoint{origin: lines[0], size: size, root: root, note: n}
}

func hashes(path string) []tlog.Hash {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var out []tlog.Hash
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(raw) != tlog.HashSize {
			fail("%s: not a base64 hash: %q", path, line)
		}
		var h tlog.Hash
		copy(h[:], raw)
		out = append(out, h)
	}
	return out
}

// witness is a cosigner verifier key: name+hash+base64(0x04 || 32-byte Ed25519 key).
type witness struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

func parseWitness(vkey string) (witness, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return witness{}, errors.New("not name+hash+key")
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return witness{}, err
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 33 || material[0] != 0x04 {
		return witness{}, errors.New("not an Ed25519 cosignature (0x04) key")
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), material...))
	if binary.BigEndian.Uint32(sum[:4]) != uint32(id) {
		return witness{}, errors.New("key hash does not match")
	}
	return witness{name: parts[0], id: uint32(id), key: ed25519.PublicKey(material[1:])}, nil
}

// cosigned reports whether w cosigned the note's text: a signature line of w's name and key ID whose
// bytes are an 8-byte big-endian timestamp and an Ed25519 signature over
// "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint text.
func cosigned(n *note.Note, w witness) (uint64, bool) {
	for _, sig := range n.UnverifiedSigs {
		if sig.Name != w.name || sig.Hash != w.id {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig.Base64)
		if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
			continue
		}
		ts := binary.BigEndian.Uint64(raw[4:12])
		var msg bytes.Buffer
		fmt.Fprintf(&msg, "cosignature/v1\ntime %d\n", ts)
		msg.WriteString(n.Text)
		if ed25519.Verify(w.key, msg.Bytes(), raw[12:]) {
			return ts, true
		}
	}
	return 0, false
}

func main() {
	vkey := flag.String("vkey", "", "the log's verifier key (GET /api/v1/audit/verifier-key.txt)")
	oldPath := flag.String("old", "", "an older checkpoint note")
	newPath := flag.String("new", "", "the newer checkpoint note")
	consistency := flag.String("consistency", "", "consistency proof from -old to -new (base64 lines)")
	leaf := flag.String("leaf", "", "an exported event's leaf bytes")
	index := flag.Int64("index", -1, "the event's leaf index")
	inclusion := flag.String("inclusion", "", "inclusion proof of -leaf in -new (base64 lines)")
	quorum := flag.Int("quorum", 0, "how many of the -witness keys must have cosigned -new")
	var witnesses multi
	flag.Var(&witnesses, "witness", "a witness's cosignature verifier key (repeatable)")
	flag.Parse()

	verifier, err := note.NewVerifier(strings.TrimSpace(*vkey))
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	newer := open(*newPath, verifier)
	if *leaf != "" {
		data, err := os.ReadFile(*leaf)
		if err != nil {
			fail("%v", err)
		}
		if err := tlog.CheckRecord(hashes(*inclusion), newer.size, newer.root, *index, tlog.RecordHash(data)); err != nil {
			fail("tlog.CheckRecord: leaf %d in tree %d: %v", *index, newer.size, err)
		}
		fmt.Printf("OK tlog.CheckRecord: leaf %d is in the tree of size %d\n", *index, newer.size)
	}
	if *oldPath != "" {
		older := open(*oldPath, verifier)
		if older.origin != newer.origin {
			fail("the checkpoints are of different logs")
		}
		if err := tlog.CheckTree(hashes(*consistency), newer.size, newer.root, older.size, older.root); err != nil {
			fail("tlog.CheckTree: %d -> %d: %v", older.size, newer.size, err)
		}
		fmt.Printf("OK tlog.CheckTree: the tree of size %d extends the tree of size %d\n", newer.size, older.size)
	}
	count := 0
	for _, spec := range witnesses {
		w, err := parseWitness(strings.TrimSpace(spec))
		if err != nil {
			fail("witness key %q: %v", spec, err)
		}
		if ts, ok := cosigned(newer.note, w); ok {
			count++
			fmt.Printf("OK cosignature by %s at %d\n", w.name, ts)
		}
	}
	if count < *quorum {
		fail("%d of the required %d witnesses cosigned %s", count, *quorum, *newPath)
	}
}
