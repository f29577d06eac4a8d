"""The supervisors' page in English and Chinese: every label it shows, by language."""

# ruff: noqa: RUF001 - Chinese text uses full-width punctuation

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "zh"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Field service: supervision", "board": "Case board", "matrix": "Conformance across cases",
        "charts": "KPI charts", "region": "Region", "status": "Status", "total": "Total", "case": "Case",
        "next_step": "Next step due", "age": "Days since the last event", "open_cases": "Open cases (newest first)",
        "findings": "findings", "next_page": "Next page", "filter": "Show", "period_from": "From",
        "period_to": "To", "trend": "Trend by month", "by_region": "By region", "by_engineer": "By engineer",
        "no_data": "No data for this selection.", "legend": "Legend", "conformance": "conformance",
        "received": "received", "acknowledged": "acknowledged", "dispatched": "dispatched", "on_site": "on site",
        "completed": "completed", "closed": "closed", "done": "done", "in_progress": "in progress",
        "missing": "missing", "not_applicable": "not applicable", "none": "—",
        "on_time_arrival": "On-time arrival", "three_call_compliance": "Three-call compliance",
        "sign_in_compliance": "Sign-in compliance", "sign_out_compliance": "Sign-out compliance",
        "daily_log_compliance": "Daily-log compliance", "first_visit_completion": "First-visit completion",
        "days_on_site": "Days on site", "issue_closure_hours": "Issue closure (hours)",
        "issues_past_sla": "Issues past SLA", "response_rate": "Response rate", "unreachable_rate": "Unreachable",
        "csat": "CSAT", "nps": "NPS", "receipt_rating": "Receipt rating", "conformance_rate": "Conformance rate",
        "findings_per_case": "Findings per case", "when": "When", "who": "Who", "evidence": "Proving events",
    },
    "zh": {
        "title": "现场服务：督导", "board": "案件看板", "matrix": "跨案件符合性", "charts": "KPI 图表",
        "region": "区域", "status": "状态", "total": "合计", "case": "案件", "next_step": "下一待办步骤",
        "age": "距最后事件天数", "open_cases": "进行中案件（最新在前）", "findings": "项发现",
        "next_page": "下一页", "filter": "显示", "period_from": "起", "period_to": "止", "trend": "按月趋势",
        "by_region": "按区域", "by_engineer": "按工程师", "no_data": "此条件下没有数据。", "legend": "图例",
        "conformance": "符合性", "received": "已接收", "acknowledged": "已确认", "dispatched": "已派工",
        "on_site": "在现场", "completed": "已完工", "closed": "已结案", "done": "已完成", "in_progress": "进行中",
        "missing": "缺失", "not_applicable": "不适用", "none": "—",
        "on_time_arrival": "准时到达率", "three_call_compliance": "三通电话合规率",
        "sign_in_compliance": "签到合规率", "sign_out_compliance": "签退合规率",
        "daily_log_compliance": "工作日志合规率", "first_visit_completion": "一次完工率",
        "days_on_site": "现场天数", "issue_closure_hours": "问题关闭时间（小时）",
        "issues_past_sla": "超 SLA 问题比例", "response_rate": "回访应答率", "unreachable_rate": "无法联系率",
        "csat": "客户满意度", "nps": "净推荐值", "receipt_rating": "验收单评分", "conformance_rate": "符合率",
        "findings_per_case": "每案发现数", "when": "时间", "who": "执行人", "evidence": "证明事件",
    },
}


def labels(lang: Lang) -> dict[str, str]:
    return LABELS[lang]
