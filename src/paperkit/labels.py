"""Every printed label in one table: a wording change is one edit here, never in a template or a function."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Templates see this table as `L` (`{{ L.exam_notice }}`); Python code formats the ones with fields.
LABELS: Mapping[str, str] = MappingProxyType(
    {
        # handbook
        "cover_kicker": "学习手册",
        "coverage": "覆盖",
        "generated": "生成日期",
        "student_edition": "学生版（不含答案）",
        "proof_edition": "校样：仅含模块 {modules}，页码为本校样的页码",
        # What each section holds, by edition (the cover says it, so it can never contradict the edition).
        "contents_inline": "每节包含概述、要点、工程提示、常见误区与例题（含答案）。",
        "contents_end": "每节包含概述、要点、工程提示、常见误区与例题；例题答案集中在书末。",
        "contents_none": "每节包含概述、要点、工程提示、常见误区与例题（本版不含答案）。",
        "answers_at_end": "答案见书末「{title}」",
        "checklist_done": "完成",
        "module": "模块",
        "done_date": "完成日期",
        "usage": "使用方式建议",
        "toc_overview": "目录（概览）",
        "toc_detail": "详细目录",
        "appendix_mark": "附",
        "appendix": "附录",
        "objective": "学习目标",
        "examples_no_answers": "例题",
        "answer_link": "答案",
        "question_link": "题目",
        "answers_appendix": "例题答案",
        "page_ref_forward": " → 第 ",
        "page_ref_back": " ← 第 ",
        "page_ref_end": " 页",
        "part_overview": "概述",
        "part_must_know": "你需要掌握",
        "part_tips": "工程提示",
        "part_pitfalls": "常见误区",
        "part_examples": "例题与答案",
        # checklist
        "name": "姓名",
        "start_date": "开始日期",
        "legend_module": "模块 · 小节",
        # score sheet and analysis
        "sheet_student_id": "学号",
        "sheet_name": "姓名",
        "sheet_class": "班级",
        "sheet_variant": "卷型",
        "sheet_question": "{number}（{points}分）",
        "sheet_total": "总分（{points}分）",
        "sheet_part": "{numeral}、{name}",
        "sheet_part_total": "{numeral}（{points}分）",
        "sheet_part_choose": "{numeral}、选做题（{name}）",
        "sheet_part_bonus": "{numeral}、附加题（{name}）",
        "sheet_part_total_bonus": "{numeral}（附加 {points}分）",
        "sheet_objective": "客观（{points}分）",
        "sheet_subjective": "主观（{points}分）",
        "sheet_subtotals": "小计",
        "sheet_rank": "名次",
        "sheet_key_lookup": "查找",
        "sheet_key_row_variant": "卷型{variant}",
        "sheet_key_row_student": "学号{student_id}",
        "sheet_key_points": "满分",
        "sheet_key_note": (
            "答案表：每行是一种卷型（或一位选项顺序不同的学生）按试卷印刷的答案。更正答案：审阅 → 撤销工作表保护，"
            "改正对应单元格，成绩表的每一行随即重新计分；paperkit analyze 也按更正后的答案计分。"
        ),
        "sheet_footer_pages": "第 &P 页 共 &N 页",
        "sheet_invalid": "填写 0 到 {points} 的分数，或学生所选的选项字母（客观题）。",
        "answer_sheet_title": "答题卡",
        "bookmark_sheet": "{id} {name}（答题卡）",
        "sheet_points": "（{points} 分）",
        "sheet_page_of": "第 {page} 页 共 {pages} 页",
        "sheet_footer": "请在各题目的答题区域内作答，超出黑色矩形边框限定区域的答案无效",
        "sheet_absent": "缺考",
        "sheet_absent_note": "（考生禁填，由监考员填涂）",
        "sheet_examples": "填涂样例",
        "sheet_right": "正确",
        "sheet_wrong": "错误",
        "sheet_id_label": "准考证号（考号）",
        "sheet_score": "得分",
        "sheet_notice": (
            "1. 答题前，考生先核对本卡上方印的姓名、学号，无误后开始作答。"
            "2. 选择题、判断题用 2B 铅笔把对应的方框涂满涂黑；修改时用橡皮擦干净。"
            "3. 非选择题用黑色签字笔在各题的答题区域内作答。4. 保持卡面清洁，不要折叠、弄破。"
        ),
        "sheet_notice_blank": (
            "1. 答题前，考生先填写姓名、班级，并在考号栏写出考号、涂黑对应数字。"
            "2. 选择题、判断题用 2B 铅笔把对应的方框涂满涂黑；修改时用橡皮擦干净。"
            "3. 非选择题用黑色签字笔在各题的答题区域内作答。4. 保持卡面清洁，不要折叠、弄破。"
        ),
        "scan_review_title": "答题卡复核",
        "review_lost": "未找到方框（答题卡弯折或污损？）",
        "review_unclear": "{boxes} 涂得不清",
        "review_no_score": "未给分",
        "review_several_scores": "给分栏涂了多个分数",
        "review_only_erased": "只有擦除痕迹",
        "review_several_boxes": "单选题涂了多个选项",
        "review_erasure_beside": "旁有擦除痕迹",
        "id_unclear": "考号第 {column} 列涂得不清",
        "id_gap": "考号第 {column} 列空着，第 {later} 列却涂了",
        "id_none": "未涂考号",
        "scan_review_note": (
            "以下作答未能自动判定（涂得太浅、涂了多个、擦改痕迹或未给分）。请对照原卡，"
            "在 review.csv 的「更正」列填写正确读数（选项字母、T/F 或分数，空白作答填 -），"
            "再运行 paperkit scan … --review review.csv。"
        ),
        "analysis_title": "试卷分析",
        "analysis_summary": "总体情况",
        "analysis_expected": "应考",
        "analysis_students": "实考",
        "analysis_absent_count": "缺考",
        "analysis_full": "满分",
        "analysis_mean": "平均分",
        "analysis_median": "中位数",
        "analysis_stdev": "标准差",
        "analysis_high": "最高分",
        "analysis_low": "最低分",
        "analysis_pass": "及格率（≥{percent}%）",
        "analysis_excellent": "优秀率（≥{percent}%）",
        "analysis_low_rate": "低分率（<{percent}%）",
        "analysis_difficulty": "难度",
        "analysis_discrimination": "区分度",
        "analysis_reliability": "信度 α",
        "analysis_summary_note": (
            "难度＝平均分/满分（越高越容易）；区分度＝总分前 27% 与后 27% 学生平均分之差/满分（≥0.4 很好，"
            "0.3–0.39 良好，0.2–0.29 尚可，<0.2 需改进）；信度为 Cronbach's α（各题只有对错时即 KR-20，"
            "≥0.7 可用于评定成绩）。"
        ),
        "analysis_absent": "缺考：",
        "analysis_distribution": "分数段",
        "analysis_band": "分数段",
        "analysis_count": "人数",
        "analysis_share": "占比",
        "analysis_cumulative": "累计人数",
        "analysis_cumulative_share": "累计占比",
        "analysis_parts": "各大题得分情况",
        "analysis_part": "大题",
        "analysis_numbers": "题号",
        "analysis_rate": "得分率",
        "analysis_variants": "卷型对比",
        "analysis_variant": "卷型",
        "analysis_classes": "班级对比",
        "analysis_class": "班级",
        "analysis_reteach": "知识点掌握情况（得分率由低到高，▲ 为低于及格线、建议重讲）",
        "analysis_section": "小节",
        "analysis_items": "题数",
        "analysis_mastery": "得分率",
        "analysis_items_title": "逐题分析",
        "analysis_items_variant": "{variant} 卷",
        "analysis_items_note": (
            "P：难度（得分率）；D：区分度（总分前 27% 与后 27% 学生在该题得分率之差）。"
            "选项为本卷印刷的字母，加下划线者为正确答案；典型错误为最常见的错误答案及人数。"
        ),
        "analysis_position": "题号",
        "analysis_item": "题目",
        "analysis_kind": "题型",
        "analysis_max": "满分",
        "analysis_options": "选项选择率 / 典型错误",
        "analysis_flag": "评价",
        "analysis_flag_easy": "过易",
        "analysis_flag_hard": "过难",
        "analysis_flag_low_d": "区分度低",
        "analysis_review": "需复查的题目",
        "analysis_review_level": "难度不当（过易 P>0.9 或过难 P<0.3）：",
        "analysis_review_d": "区分度低（D<0.2）：",
        "analysis_review_none": "无",
        "analysis_totals": "成绩表（由高到低，同分同名次）",
        "analysis_rank": "名次",
        "analysis_comments": "试题评价",
        "analysis_actions": "改进措施",
        "analysis_signed": "分析人：　　　　　　　　　日期：",
        "report_title": "个人成绩报告",
        "practice_title": "{title} · 错题重练",
        "practice_notice": "本卷针对你在考试中失分最多的知识点：{sections}。题目均为你在考试中没有做过的新题。",
        "practice_answers": "先独立完成，再对照卷末的参考答案订正，把仍不懂的题标出来，讲评时提问。",
        "report_total": "总分",
        "report_rank": "名次",
        "report_class_mean": "平均分",
        "report_scored": "得分",
        "report_yours": "你的答案",
        "report_key": "正确答案",
        "report_right": "√",
        "report_wrong": "×",
        "report_partly": "半对",
        "report_weak": "需要加强的知识点",
        "report_weak_none": "各知识点得分率均达到及格线，继续保持。",
        "report_of": "{rank} / {count}",
        "analysis_blank": "未答",
        # exam paper and key
        "default_exam_title": "{title} 测试卷",
        "figure_number": "图 ",
        "appendix_figure": "附图 ",
        "material_lead": "阅读下面的材料，完成第 {numbers} 题。",
        "course": "课程：",
        "exam_date": "考试日期：",
        "duration": "考试时长：{minutes} 分钟",
        "full_marks": "满分：{points} 分",
        "paper_code": "试卷编号：",
        "page_of_before": "第 ",
        "page_of_middle": " 页 共 ",
        "page_of_after": " 页",
        "field_colon": "：",
        "field_name": "姓名",
        "field_number": "学号",
        "field_class": "班级",
        "score_number": "题号",
        "score_points": "得分",
        "score_total": "总分",
        "notice": "考生须知",
        "notice_fields": "答题前，请在试卷规定位置填写姓名、学号和班级。",
        "notice_fields_printed": "答题前，请核对试卷上印好的姓名、学号和班级；如有错误，立即报告监考老师。",
        "notice_totals": "本试卷共 {count} 小题，满分 {points} 分，考试时长 {minutes} 分钟。",
        "notice_where": "请在每题下方的横线上作答，字迹清楚；答在其他位置不得分。",
        "notice_return": "考试结束后，将试卷交回。",
        "answer_grid_title": "选择题答题表",
        "answer_grid_note": "选择题、判断题的答案填在下表中（判断题填 √ 或 ×），写在题目旁的答案不计分。",
        "answer_grid_answer": "答案",
        "notice_where_typed": "选择题、判断题的答案填在题后括号内，填空题填在横线上，简答题在题下横线上作答。",
        "notice_where_grid": "选择题、判断题的答案填在「选择题答题表」内，填空题填在横线上，简答题在题下横线上作答。",
        "answer_area": "答题区",
        "points": "（{points} 分）",
        "paper_end": "— 试卷到此结束 —",
        "seal_chars": "密封线",
        "binding_chars": "装订线",
        "seal_note": "（密封线内不要答题）",
        "variant": "{variant} 卷",
        "key_title": "答案与评分参考",
        "key_kicker": "答案与评分参考（教师用）",
        "reference_answer": "【参考答案】",
        "source": "出自 {section}",
        # part headings: 「一、简答题（共 10 小题，每小题 10 分，共 100 分）」
        "part_heading": "{numeral}、{name}（共 {count} 小题，{each}，共 {total} 分）",
        "part_heading_blueprint": "{numeral}、{name}（本大题共 {count} 小题，每小题 {points} 分，共 {total} 分）",
        "part_heading_choose": (
            "{numeral}、选做题：{name}（本大题共 {count} 小题，任选 {choose} 小题作答，"
            "每小题 {points} 分，共 {counted} 分）"
        ),
        "part_heading_bonus": (
            "{numeral}、附加题：{name}（本大题共 {count} 小题，每小题 {points} 分，共 {total} 分，不计入总分）"
        ),
        "instruction_choose": "请任选 {choose} 题作答，并在题号前打 √；如果多做，则按所做的前 {choose} 题计分。",
        "instruction_choose_one": "请任选一题作答，并在题号前打 √；如果多做，则按所做的第一题计分。",
        "instruction_bonus": "本大题为附加题，得分不计入总分；请先完成前面各题。",
        "notice_totals_bonus": (
            "本试卷共 {count} 小题，满分 {points} 分（另有附加题 {bonus} 分，不计入总分），考试时长 {minutes} 分钟。"
        ),
        "score_bonus": "{numeral}（附加）",
        "each_same": "每小题 {points} 分",
        "each_one": "第 {first} 题 {points} 分",
        "each_run": "第 {first}–{last} 题每小题 {points} 分",
        "list_separator": "，",
        # question kinds: part names and the instruction line under each part heading
        "part_choice": "选择题",
        "instruction_choice": "在每小题给出的选项中，只有一项是符合题目要求的。",
        "part_multi": "多项选择题",
        "instruction_multi": "在每小题给出的选项中，有多项符合题目要求。",
        "part_truefalse": "判断题",
        "instruction_truefalse": "判断下列说法是否正确，正确的打“√”，错误的打“×”。",
        "part_fill": "填空题",
        "instruction_fill": "请将答案填写在横线上。",
        "part_short": "简答题",
        "instruction_short": "请在每题下方的横线上作答。",
        "multi_rule": "全部选对得满分，部分选对得一半分（向下取整），有选错的得 0 分。",
        "multi_rule_per_option": (
            "全部选对的得满分，部分选对的按选对的选项个数计分（每个正确选项得满分的相应份额），有选错的得 0 分。"
        ),
        "true_mark": "√（正确）",
        "false_mark": "×（错误）",
        "true_short": "√",
        "false_short": "×",
        "answer_bracket": "（　　）",
        "blank_number": "第 {number} 空",
        "accepted": "（也可答：{alternatives}）",
        "accepted_open": "（也可答：",
        "accepted_separator": "；",
        "accepted_close": "）",
        "rubric": "【评分要点】",
        "why": "【解析】",
        "exercises": "练习",
        "grader": "评卷人",
        "student_key_title": "选择题答案对照表（按学生）",
        "bookmark_student": "{id} {name}（{variant} 卷）",
        "bookmark_key": "{variant} 卷 答案与评分参考",
        "no_questions": "本页无试题",
        "variant_column": "卷型",
        "student_key_note": "每位学生的选项顺序不同：按学号查对应行的答案。",
        "checker": "复核人：",
        "key_answer": "答案",
        "quick_answers": "答案速查",
        "why_column": "说明",
        "key_source": "出处与说明",
        "exercise_answers": "练习答案",
        "module_heading": "模块 {id}\u3000{title}",
    }
)

CHINESE_NUMERALS = "一二三四五六七八九十"


def label(key: str, **fields: object) -> str:
    """One label, with its {fields} filled in."""
    return LABELS[key].format(**fields) if fields else LABELS[key]


def numeral(index: int) -> str:
    """The Chinese numeral of a part (0 → 一), Arabic past ten."""
    return CHINESE_NUMERALS[index] if index < len(CHINESE_NUMERALS) else str(index + 1)
