"""The content errata of docs/errata.md (issue 17): each correction is in source/, the wrong wording is gone. That
the PDF shows them is tested in test_handbook.py, beside the handbook it lays out anyway."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from conftest import ROOT, SOURCE
from paperkit.content.models import Handbook
from paperkit.content.validate import iter_texts
from paperkit.source import open_handbook
from pdftext import squash


@dataclass(frozen=True)
class Erratum:
    section: str
    field: str  # "must_know[1]", "tips[0]", "q1", "a2", "overview"
    shown: tuple[str, ...]  # phrases of the new wording outside math: in the YAML text and in the PDF's text
    tex: tuple[str, ...] = ()  # TeX that the new wording must hold
    wrong: tuple[str, ...] = ()  # the seed's wrong wording: in no text of the handbook, nor in the PDF


ERRATA = [
    Erratum(
        "7.3",
        "must_know[1]",
        ("KL 正则的强度", "越大策略越贴近参考模型", "为 chosen/rejected"),
        (
            r"\pi^* \propto \pi_{\mathrm{ref}}\exp(r/\beta)",
            r"\mathcal{L}_{\mathrm{DPO}} = -\log\sigma\big(",
            r"\beta\log\frac{\pi_\theta(y_w\mid x)}{\pi_{\mathrm{ref}}(y_w\mid x)}",
            r"- \beta\log\frac{\pi_\theta(y_l\mid x)}{\pi_{\mathrm{ref}}(y_l\mid x)}",
        ),
        ("控制偏好强度",),
    ),
    Erratum("7.3", "a1", ("拉在参考模型附近，偏好学得不足", "过小的表现"), wrong=("模型过度追随偏好，输出变得极端",)),
    Erratum(
        "8.5",
        "a2",
        ("低并发时：decode 受显存带宽限制、算力有富余", "高并发下算力已被批处理占满，收益缩小甚至消失"),
        wrong=("并发足够时",),
    ),
    Erratum(
        "8.2",
        "must_know[0]",
        ("每元素字节数", "为 KV 头数", "4k token、BF16 下每条序列约 2 GiB"),
        (r"\times n_{kv} \times", r"\mathrm{head{\_}dim}=128"),
        (r"\mathrm{heads}",),
    ),
    Erratum(
        "6.2",
        "a1",
        ("初始化为 0（训练起点即原模型）", "更新按"),
        (
            r"\Delta W = BA",
            r"B \in \mathbb{R}^{d \times r}",
            r"A \in \mathbb{R}^{r \times k}",
            r"r \ll \min(d,k)",
            r"\alpha/r",
        ),
        ("（rank $r$）",),
    ),
    Erratum(
        "2.6",
        "a1",
        ("仍要为新 token 计算 Q、K、V，并把新的 K/V 追加进缓存", "历史 K/V 直接复用"),
        ("O(S)",),
        ("只需为新 token 计算 Q，",),
    ),
    Erratum(
        "5.4",
        "a2",
        ("interleaved 1F1B 可减小", "普通 1F1B 的 bubble 与 GPipe 相同，它节省的是激活显存"),
        ("(p-1)/(m+p-1)",),
        ("1F1B 调度等减小空闲",),
    ),
    Erratum(
        "1.3", "a2", ("的 token（含自身），并用它预测下一个 token",), (r"\le t", "x_{t+1}"), ("只依赖 $<t$ 的 token",)
    ),
    Erratum("2.1", "a2", ("的输出用于预测下一个 token",), ("x_{t+1}",)),
    Erratum(
        "2.5",
        "a1",
        ("训练与推理使用同一概率分解与同一 causal mask", "训练见真实前缀、推理见模型前缀"),
        wrong=("训练与推理一致。",),
    ),
    Erratum(
        "8.4",
        "tips[0]",
        ("约束解码保证格式合法，但约束过严会把模型逼向低概率路径",),
        wrong=("严格约束会提高失败率",),
    ),
    Erratum("8.4", "a1", ("保证输出符合语法", "但它不保证内容正确，仍需校验")),
    Erratum(
        "8.5", "must_know[0]", ("每个 decode 步重新组批，新请求随时加入、完成的请求随即离开",), wrong=("动态合并请求",)
    ),
    Erratum(
        "8.5",
        "a1",
        ("按 decode 步调度，完成的请求立即让出位置", "不必等整批最长的请求结束"),
        wrong=("把多个请求合并计算",),
    ),
    Erratum(
        "0.2",
        "a2",
        ("在 SGD 下二者等价", "在 Adam 中 L2 梯度会被自适应步长缩放，效果不同"),
        wrong=("对 AdamW 而言不等价",),
    ),
    Erratum(
        "11.2",
        "must_know[0]",
        ("按重要性（幅值、SparseGPT、Wanda 等）选出单个权重置零",),
        wrong=("随机权重置零",),
    ),
    Erratum(
        "13.2",
        "must_know[2]",
        ("经最终 norm 与 unembedding 解码成词表分布", "贡献则是 direct logit attribution"),
        wrong=("看各层残差流对最终 logits 的贡献",),
    ),
    Erratum("2.4", "a2", ("LayerNorm 既减均值又除以标准差",), wrong=("按方差缩放",)),
]


def text_of(handbook: Handbook, erratum: Erratum) -> str:
    section = next(s for s in handbook.sections if s.id == erratum.section)
    if erratum.field == "overview":
        return section.overview
    if match := re.fullmatch(r"(must_know|tips|pitfalls)\[(\d+)\]", erratum.field):
        return getattr(section, match.group(1))[int(match.group(2))]
    kind, number = erratum.field[0], int(erratum.field[1:])
    return getattr(section.examples[number - 1], kind)


@pytest.mark.parametrize("erratum", ERRATA, ids=lambda e: f"{e.section}-{e.field}")
def test_the_correction_is_in_the_source(erratum: Erratum, handbook: Handbook) -> None:
    text = text_of(handbook, erratum)
    for phrase in erratum.shown:
        assert squash(phrase) in squash(text), (phrase, text)
    for tex in erratum.tex:
        assert tex in text, (tex, text)


def test_the_wrong_wording_is_gone_from_the_source(handbook: Handbook) -> None:
    texts = [text for _, _, text in iter_texts(handbook)]
    for erratum in ERRATA:
        for wrong in erratum.wrong:
            found = [text for text in texts if squash(wrong) in squash(text)]
            assert not found, (erratum.section, erratum.field, wrong, found)


def test_the_errata_list_every_correction() -> None:
    errata = (ROOT / "docs" / "errata.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### (\d+\.\d+) ", errata, flags=re.M)
    for erratum in ERRATA:
        assert erratum.section in headings, erratum.section
    handbook = open_handbook(SOURCE)
    for erratum in ERRATA:  # the wording quoted as "now" is the wording in source/
        assert f"- now: `{text_of(handbook, erratum)}`" in errata, (erratum.section, erratum.field)
