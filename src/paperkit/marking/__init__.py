"""After the exam: each student's printed questions, the score sheet, scoring and the 试卷分析."""
