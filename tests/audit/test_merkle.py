"""The tree is RFC 6962's, and its proofs check with RFC 9162's verification algorithms."""

from __future__ import annotations

from service.audit import merkle

# RFC 6962 reference inputs (certificate-transparency test data) and the published roots
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _all_nodes(leaves: list[bytes]) -> dict[merkle.NodeKey, bytes]:
    edge, nodes = merkle.CompactRange(), {}
    for leaf in leaves:
        for level, idx, h in edge.append(merkle.leaf_hash(leaf)):
            nodes[(level, idx)] = h
    return nodes


def test_roots_match_the_rfc_6962_reference_vectors():
    assert merkle.root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for n, root in enumerate(CT_ROOTS, start=1):
        assert merkle.root_of(CT_LEAVES[:n]).hex() == root


def test_every_inclusion_and_consistency_proof_verifies_and_a_wrong_one_does_not():
    leaves = [f"entry {i}".encode() for i in range(40)]
    nodes = _all_nodes(leaves)
    roots = [merkle.root_of(leaves[:n]) for n in range(41)]
    for n in range(1, 41):
        for i in range(n):
            path = merkle.hashes_for(merkle.inclusion_ranges(i, n), nodes)
            assert merkle.verify_inclusion(merkle.leaf_hash(leaves[i]), i, n, path, roots[n])
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), i, n, path, roots[n])
        for m in range(1, n + 1):
            proof = merkle.hashes_for(merkle.consistency_ranges(m, n), nodes)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof)
            if m < n:
                assert not merkle.verify_consistency(m, n, merkle.root_of(leaves[1:m + 1]), roots[n], proof)


def test_a_proof_reads_logarithmically_many_stored_subtrees():
    n = 10_000_001
    keys = merkle.keys_for([*merkle.inclusion_ranges(1234567, n), (0, n)])
    assert len(keys) <= 2 * n.bit_length()
    keys = merkle.keys_for([*merkle.consistency_ranges(7_654_321, n), (0, 7_654_321), (0, n)])
    assert len(keys) <= 3 * n.bit_length()
